"""The sections of the main window, in navigation order, each with the page that renders it.

Sections whose capability arrives with a later piece of work show an honest empty state saying what they will
hold; they never show invented data.
"""

from __future__ import annotations

from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import Section
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.empty_state import EmptyState


def _empty(title: str, body: str) -> type[QtWidgets.QWidget]:
    class Page(EmptyState):
        def __init__(self, ctx: AppContext) -> None:
            super().__init__(title, body)

    return Page


def _contacts(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.contacts import ContactsPage

    return ContactsPage(ctx)


def _pipeline(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.pipeline import PipelinePage

    return PipelinePage(ctx)


def _products(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.products import ProductsPage

    return ProductsPage(ctx)


def _whatsapp(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.whatsapp import WhatsAppPage

    return WhatsAppPage(ctx)


def _campaigns(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.campaigns import CampaignsPage

    return CampaignsPage(ctx)


def _knowledge(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.knowledge import KnowledgePage

    return KnowledgePage(ctx)


def _agents(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.agents import AgentsPage

    return AgentsPage(ctx)


def _health(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.health import HealthPage

    return HealthPage(ctx)


def _settings(ctx: AppContext) -> QtWidgets.QWidget:
    from app.ui.pages.settings import SettingsPage

    return SettingsPage(ctx)


SECTIONS: list[Section] = [
    Section("inbox", "Inbox", "inbox", InboxPage),
    # Second: linking the phone is the first thing a new workspace needs, and where the banner's "Details" lead.
    Section("whatsapp", "WhatsApp", "whatsapp", _whatsapp),
    Section("contacts", "Contacts", "contacts", _contacts),
    Section("pipeline", "Pipeline", "pipeline", _pipeline),
    Section("products", "Products & Sales", "products", _products),
    Section("campaigns", "Campaigns", "campaigns", _campaigns),
    Section("knowledge", "Knowledge", "knowledge", _knowledge),
    Section("agents", "Agents", "agents", _agents),
    Section(
        "dashboard",
        "Dashboard",
        "dashboard",
        _empty(
            "Dashboard",
            "Messages per day, response times, conversion and revenue charts, built from your own data once "
            "conversations flow in.",
        ),
    ),
    Section("health", "Health", "health", _health),
    Section("settings", "Settings", "settings", _settings),
]
