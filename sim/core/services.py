"""Writes of the core app."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import ApiToken


@transaction.atomic
def api_token_create(user, name: str, *, valid_days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and shown only once."""
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API",
        prefix=secret[4:12],
        digest=ApiToken.hash_secret(secret),
        expires_at=timezone.now() + dt.timedelta(days=valid_days) if valid_days else None,
    )
    return token, secret


def api_token_revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_authenticate(secret: str):
    """The active user behind a token secret, or None."""
    if not secret or not secret.startswith("sim_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute, so busy clients don't write on every request.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
