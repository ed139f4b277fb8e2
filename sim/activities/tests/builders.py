"""Builders for the activity and event tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from sim.activities import services
from sim.activities.models import Event
from sim.programmes.models import FocusArea


def area(key: str) -> FocusArea:
    return FocusArea.objects.get(key=key)


def activity(actor, project, company, *, hours="2", date=dt.date(2025, 3, 4), focus="production_efficiency",
             kind="meeting", advisors=None, contacts=(), notes="", subject="Möte"):
    return services.activity_create(
        actor, project, company,
        {"kind": kind, "date": date, "hours": Decimal(hours), "focus_area": area(focus) if focus else None,
         "subject": subject, "notes": notes},
        advisors=advisors, contacts=contacts,
    )


def event(actor, project, *, capacity=None, title="Industrins dag", days=30, open_=True):
    return services.event_create(actor, project, {
        "title": title, "kind": Event.Kind.INDUSTRY_DAY, "starts_at": timezone.now() + dt.timedelta(days=days),
        "place": "Storsjöteatern, Östersund", "capacity": capacity, "registration_open": open_,
    })
