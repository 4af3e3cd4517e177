"""The composition root: the one place that names every feature and plugs it into the core's seams."""

from __future__ import annotations

import functools

from fsctl.billing.ivr_option import IvrOptionSection
from fsctl.billing.subscriptions import Billable, SubscriptionsSection
from fsctl.gateways.billing import gateway_items
from fsctl.gateways.config import GatewaySection
from fsctl.tenant_file import Section, TenantFile


def billable_items() -> tuple[Billable, ...]:
    """Features whose holdings are billed monthly besides users, numbers and options."""
    return (gateway_items,)


def tenant_file_sections() -> tuple[Section, ...]:
    """The tenant file's sections after the core's, in the order they are checked, applied and exported."""
    return (GatewaySection(), IvrOptionSection(), SubscriptionsSection(billable_items()))


@functools.cache
def tenant_file() -> TenantFile:
    """The tenant file with every section: what `fsctl apply`/`export`, the panel and the API use."""
    return TenantFile(tenant_file_sections())
