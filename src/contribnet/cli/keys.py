"""``contribnet keys create --role R [--staff ID]``: a new API key, printed once."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from contribnet.cli.common import add_store_option, opened_store
from contribnet.domain.roles import Role
from contribnet.services.keys import create_key, hash_key, key_id


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="manage API keys")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a key and print it once (only its hash is kept)"
    )
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--staff", help="the staff id a staff key is bound to")
    add_store_option(create)
    create.set_defaults(func=_create)


def _create(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        secret = create_key(store, args.role, args.staff)
    print(secret)
    # The secret is shown once; the id is what records made with it will name.
    print(f"id: {key_id(hash_key(secret))}", file=sys.stderr)
    return 0
