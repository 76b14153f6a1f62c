"""``flask staff``: add back-office staff, change their roles, disable them, reset a factor, list them.

Run by the system administrator on the server; the actor written to the staff action log is
``cli:<operator>`` (``SBF_OPERATOR`` or the OS user). ``create`` prints the second factor's
provisioning URI once: hand it to the staff member's authenticator (or token programmer) and
do not keep it.
"""
from __future__ import annotations

import getpass
import json
import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.domain.errors import DomainError
from app.domain import reminders as reminder_rules
from app.domain.staff import ROLES
from app.services import backoffice_staff, reminders


def _deps():
    return current_app.extensions["sbf"].backoffice


def _actor() -> str:
    return "cli:" + (os.environ.get("SBF_OPERATOR") or getpass.getuser())


def register(app: Flask) -> None:
    group = AppGroup("staff", help="Back-office staff accounts (受理 accept / 审核 approve / 财务 finance / 稽核 audit).")
    role = click.Choice(ROLES)

    @group.command("create")
    @click.argument("username")
    @click.option("--name", "display_name", required=True, help="the staff member's name, shown in the log")
    @click.option("--role", "roles", multiple=True, type=role, required=True, help="repeat for several roles")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create(username, display_name, roles, password):
        """Add a staff account; prints the second factor's otpauth:// URI once."""
        try:
            member, uri = backoffice_staff.create_staff(username, display_name, password, list(roles), _deps(),
                                                        _actor())
        except DomainError as refused:
            raise click.ClickException(f"{refused.code}: {refused.message}") from None
        click.echo(f"staff {member.username} created with roles {','.join(sorted(member.roles))}")
        click.echo(f"second factor (enter into the authenticator, then discard): {uri}")

    @group.command("change")
    @click.argument("username")
    @click.option("--reason", required=True, help="why (kept in the staff action log)")
    @click.option("--grant", multiple=True, type=role)
    @click.option("--revoke", multiple=True, type=role)
    @click.option("--disable", is_flag=True)
    @click.option("--enable", is_flag=True)
    @click.option("--reset-password", is_flag=True, help="prompts for the new password")
    @click.option("--reset-second-factor", is_flag=True, help="prints a new otpauth:// URI")
    def change(username, reason, grant, revoke, disable, enable, reset_password, reset_second_factor):
        """Grant or revoke roles, disable or enable, reset a factor; anything but granting ends open sessions."""
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True) if reset_password else None
        try:
            uri = backoffice_staff.change_staff(username, _deps(), _actor(), reason, grant=list(grant),
                                                revoke=list(revoke), disable=disable, enable=enable,
                                                new_password=password, new_second_factor=reset_second_factor)
        except DomainError as refused:
            raise click.ClickException(f"{refused.code}: {refused.message}") from None
        click.echo(f"staff {username} changed")
        if uri:
            click.echo(f"second factor (enter into the authenticator, then discard): {uri}")

    @group.command("list")
    def list_():
        """The staff accounts with their roles and status."""
        for m in backoffice_staff.list_staff(_deps()):
            click.echo(f"{m.username:<20} {m.display_name:<10} {','.join(sorted(m.roles)):<28} {m.status}")

    app.cli.add_command(group)
    _register_reminders(app)


def _register_reminders(app: Flask) -> None:
    group = AppGroup("reminders", help="催缴提醒: before a due date and after a failed batch debit.")

    def ports():
        return _deps().reminders

    @group.command("send")
    @click.option("--days-before", default=reminder_rules.DAYS_BEFORE, show_default=True)
    def send(days_before):
        """Send the reminders due now (run daily; a second run sends nothing twice)."""
        c = current_app.extensions["sbf"]
        click.echo(json.dumps(reminders.send_reminders(ports(), c.uow(), days_before), ensure_ascii=False))

    @group.command("opt-out")
    @click.option("--id-type", default="resident_id", show_default=True)
    @click.option("--id-number", required=True)
    @click.option("--via", default="counter", show_default=True, help="where the payer asked (a channel or counter)")
    @click.option("--undo", is_flag=True, help="the payer wants reminders again")
    def opt_out(id_type, id_number, via, undo):
        """Record that a payer wants no reminders (or wants them again)."""
        c = current_app.extensions["sbf"]
        with c.uow() as uow:
            person = uow.persons.find_by_document(id_type, id_number)
        if person is None:
            raise click.ClickException("person_not_found: 未找到该参保人")
        if undo:
            reminders.opt_in(person.id, ports())
        else:
            reminders.opt_out(person.id, via, ports())
        click.echo(f"person {person.id}: reminders {'on' if undo else 'off'}")

    app.cli.add_command(group)
