"""Channel commands: list the channels, publish the official account's custom menu."""
from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.services.channel_sessions import list_channels


def register(app: Flask) -> None:
    group = AppGroup("channels", help="The channels payers come through (公众号, 城市服务, 市民中心, 云闪付).")

    @group.command("list")
    def list_command():
        """List the channels, how their users are authenticated and the payment methods of each."""
        rows = list_channels(current_app.extensions["sbf"].channels.channels,
                             current_app.config["CHANNEL_PAYMENT_METHODS"])
        for row in rows:
            click.echo(f"{row['code']:<16} {row['title']:<10} {row['auth_kind']:<15} {', '.join(row['payment_methods'])}")

    @group.command("publish-menu")
    @click.argument("code", default="wechat_oa")
    def publish_menu(code):
        """Create the channel's custom menu at its platform (the official account: 微服务 → 社保缴费)."""
        channel = current_app.extensions["sbf"].channels.channels.get(code)
        if channel is None or not hasattr(channel, "publish_menu"):
            raise click.ClickException(f"channel {code!r} has no custom menu to publish")
        click.echo(json.dumps(channel.publish_menu(), ensure_ascii=False, indent=1))

    app.cli.add_command(group)
