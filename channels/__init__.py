"""Channel adapters (公众号, 城市服务, 市民中心, 云闪付, ...) behind one port."""
