"""``contribnet keys create|list|revoke``: API keys, named by their public id (``key-…``)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from typing import Any

from contribnet.cli.common import add_store_option, cli_actor, opened_store, settings_from
from contribnet.domain.roles import Role
from contribnet.services.keys import (
    create_key,
    hash_key,
    key_id,
    list_keys,
    revoke_key,
    seal_keys,
)


def _day_or_instant(text: str) -> date | datetime:
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO instant"
        ) from None


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="manage API keys")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a key and print it once (only its hash is kept)"
    )
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--staff", help="the staff id a staff key is bound to (must exist)")
    create.add_argument(
        "--expires",
        type=_day_or_instant,
        metavar="DATE",
        help="last day the key works (YYYY-MM-DD, China Standard Time) or an ISO instant",
    )
    add_store_option(create)
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list keys: id, role, staff, status (no secrets)")
    add_store_option(listing)
    listing.set_defaults(func=_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its id; refused at once")
    revoke.add_argument("id", metavar="ID", help="the key's id, key-… as printed at creation")
    add_store_option(revoke)
    revoke.set_defaults(func=_revoke)


def _create(args: argparse.Namespace) -> int:
    # A staff key names a staff member of the store: no store, no staff member (nothing created).
    pepper = settings_from(args).pepper()
    with opened_store(args, create=args.staff is None) as store:
        seal_keys(store, pepper)
        secret = create_key(
            store, args.role, args.staff, args.expires, pepper=pepper, requested_by=cli_actor()
        )
    print(secret)
    # The secret is shown once; the id is what records made with it will name.
    print(f"id: {key_id(hash_key(secret))}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    pepper = settings_from(args).pepper()
    with opened_store(args) as store:
        seal_keys(store, pepper)  # records from before keys were peppered, once
        keys = list_keys(store, pepper=pepper)
    if not keys:
        print("no keys", file=sys.stderr)
        return 0
    print("id\trole\tstaff\tstatus\tcreated_at\texpires_at\trevoked_at")
    for k in keys:
        when = [t.isoformat() if t else "" for t in (k.created_at, k.expires_at, k.revoked_at)]
        print("\t".join([k.id, k.role.value, k.staff or "", k.status, *when]))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    pepper = settings_from(args).pepper()
    with opened_store(args) as store:
        seal_keys(store, pepper)
        key = revoke_key(store, args.id, pepper=pepper, requested_by=cli_actor())
    print(f"{key.id} revoked at {key.revoked_at.isoformat() if key.revoked_at else '?'}")
    return 0
