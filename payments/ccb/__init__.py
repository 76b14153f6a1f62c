"""建行支付 (China Construction Bank card payment), as 西藏 移动办税 offers it (seed 004)."""
