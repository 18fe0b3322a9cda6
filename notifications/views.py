"""Settings → Notifications: channel forms (htmx, inline errors), send test, the delivery log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.forms import ChannelForm
from notifications.models import ChannelKind, EventKind, NotificationChannel
from notifications.selectors import channel_get_for, channels_for, delivery_log
from notifications.services import channel_create, channel_delete, channel_update, send_test
from notifications.transports import transport_for
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from web.access import human_actor, require_org

# URL names base.html links to: while another part of the dashboard is missing, fall back to a plain layout.
_BASE_NEEDS = ("web:dashboard", "issues:board", "approvals:inbox", "web:settings")


def _base_template() -> str:
    try:
        for name in _BASE_NEEDS:
            reverse(name)
    except NoReverseMatch:
        return "notifications/standalone.html"
    return "base.html"


def _org(request: HttpRequest) -> Org:
    return require_org(request)


def _channel(org: Org, pk: int) -> NotificationChannel:
    # A NotFound becomes the 404 page in web.access.AccessMiddleware.
    return channel_get_for(org, pk)


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in ChannelKind]


def _card(
    request: HttpRequest, channel: NotificationChannel, form: ChannelForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    ctx = {
        "channel": channel,
        "form": form,
        "secret_label": transport_for(channel.kind).secret_label,
        **extra,
    }
    return render(request, "notifications/partials/channel_card.html", ctx, status=status)


def _field_error(form: ChannelForm, exc: InvalidInput) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    channels = list(channels_for(org))
    kind = request.GET.get("kind") or ChannelKind.TELEGRAM
    ctx = {
        "base_template": _base_template(),
        "cards": [
            {"channel": c, "form": ChannelForm.for_channel(c), "secret_label": transport_for(c.kind).secret_label}
            for c in channels
        ],
        "new_form": ChannelForm(initial={"kind": kind, "enabled": True, "events": list(EventKind.values)}),
        "new_kind": kind,
        "kinds": _kind_choices(),
        "deliveries": delivery_log(org),
    }
    return render(request, "notifications/settings.html", ctx)


@require_http_methods(["GET", "POST"])
def channel_new(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    if request.method == "GET":
        # The kind selector swaps in the fields that kind needs.
        kind = request.GET.get("kind") or ChannelKind.TELEGRAM
        if kind not in ChannelKind.values:
            kind = ChannelKind.TELEGRAM
        form = ChannelForm(initial={"kind": kind, "enabled": True, "events": list(EventKind.values)})
        return render(
            request,
            "notifications/partials/new_form.html",
            {"new_form": form, "new_kind": kind, "kinds": _kind_choices()},
        )
    form = ChannelForm(request.POST)
    kind = request.POST.get("kind", "")
    if form.is_valid():
        try:
            channel_create(
                actor=human_actor(request),
                org=org,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                enabled=form.cleaned_data["enabled"],
                events=form.cleaned_data["events"],
                config=form.config(),
                secret=form.cleaned_data["secret"],
            )
        except InvalidInput as exc:
            _field_error(form, exc)
        else:
            url = reverse("notifications:settings")
            if getattr(request, "htmx", False):
                return HttpResponse(status=200, headers={"HX-Redirect": url})
            return HttpResponseRedirect(url)
    ctx = {
        "new_form": form,
        "new_kind": kind if kind in ChannelKind.values else ChannelKind.TELEGRAM,
        "kinds": _kind_choices(),
    }
    if getattr(request, "htmx", False):
        return render(request, "notifications/partials/new_form.html", ctx, status=400)
    return render(
        request,
        "notifications/settings.html",
        {
            **ctx,
            "base_template": _base_template(),
            "cards": [
                {"channel": c, "form": ChannelForm.for_channel(c), "secret_label": transport_for(c.kind).secret_label}
                for c in channels_for(org)
            ],
            "deliveries": delivery_log(org),
        },
        status=400,
    )


@require_POST
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    channel = _channel(org, pk)
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_update(
                actor=human_actor(request),
                channel=channel,
                name=form.cleaned_data["name"],
                enabled=form.cleaned_data["enabled"],
                events=form.cleaned_data["events"],
                config=form.config(),
                secret=form.cleaned_data["secret"] or None,
            )
        except InvalidInput as exc:
            _field_error(form, exc)
            channel.refresh_from_db()
            return _card(request, channel, form, status=400)
        channel.refresh_from_db()
        if not getattr(request, "htmx", False):
            return HttpResponseRedirect(reverse("notifications:settings"))
        return _card(request, channel, ChannelForm.for_channel(channel), saved=True)
    return _card(request, channel, form, status=400)


@require_POST
def channel_remove(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    channel_delete(actor=human_actor(request), channel=_channel(org, pk))
    url = reverse("notifications:settings")
    if getattr(request, "htmx", False):
        return HttpResponse(status=200, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    channel = _channel(org, pk)
    try:
        delivery = send_test(actor=human_actor(request), channel=channel)
    except MesaError as exc:
        return render(request, "notifications/partials/test_result.html", {"error": exc.message}, status=exc.status)
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("notifications:settings"))
    return render(request, "notifications/partials/test_result.html", {"delivery": delivery, "channel": channel})


@require_GET
def delivery_log_view(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    return render(request, "notifications/partials/delivery_log.html", {"deliveries": delivery_log(org)})
