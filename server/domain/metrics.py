"""The metrics a map can show: police.uk crime groups and types, and the partnership's own tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.domain.seed_tables import (
    BOROUGH_GEOGRAPHY,
    CLUSTER_GEOGRAPHY,
    SEED_TABLES,
    WARD_GEOGRAPHY,
)

POLICE = "police.uk"
SEED = "seed"
ASB = "anti-social-behaviour"
POLICE_SOURCE = ("data.police.uk street-level crime (Kent Police). Contains public sector information licensed "
                 "under the Open Government Licence v3.0.")

# Paragraph 26 of the 2024/25 assessment lists the partnership's categories in Home Office terms; these are the
# police.uk types that correspond. "Other crime" stands in for "Misc. Crimes Against Society" (police.uk folds a
# few other offences into it, so CAS read from police.uk is a close, not exact, match).
VICTIM_BASED_TYPES = ("criminal-damage-and-arson", "bicycle-theft", "burglary", "robbery", "shoplifting",
                      "vehicle-crime", "other-theft", "theft-from-the-person", "violence-and-sexual-offences")
AGAINST_SOCIETY_TYPES = ("drugs", "public-order", "possession-of-weapons", "other-crime")


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    source: str
    unit: str
    kind: str = "count"  # "count" or "rate" (a published rate cannot be turned into a density)
    geography: str = "any"
    include_types: tuple[str, ...] | None = None
    exclude_types: tuple[str, ...] = ()
    seed_table: str | None = None
    description: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_police(self) -> bool:
        return self.source == POLICE


POLICE_GROUPS = (
    Metric("all-crime", "All recorded crime (excluding ASB)", POLICE, "crimes", exclude_types=(ASB,),
           description="Every police.uk crime type except anti-social behaviour"),
    Metric("asb", "Anti-social behaviour", POLICE, "incidents", include_types=(ASB,)),
    Metric("vbc", "Victim-based crime (VBC)", POLICE, "crimes", include_types=VICTIM_BASED_TYPES,
           description="The partnership's victim-based crime group (assessment para 26) from police.uk types"),
    Metric("cas", "Crimes against society (CAS)", POLICE, "crimes", include_types=AGAINST_SOCIETY_TYPES,
           description="The partnership's crimes-against-society group (assessment para 26) from police.uk types",
           notes=("police.uk 'Other crime' stands in for 'Misc. Crimes Against Society'",)),
)


def police_type_metric(slug: str, name: str) -> Metric:
    return Metric(slug, name, POLICE, "crimes", include_types=(slug,))


def seed_metrics() -> list[Metric]:
    metrics = []
    for info in SEED_TABLES.values():
        if info.geography not in (WARD_GEOGRAPHY, CLUSTER_GEOGRAPHY, BOROUGH_GEOGRAPHY):
            continue
        metrics.append(Metric(info.slug, info.title, SEED, info.unit, kind=info.measure, geography=info.geography,
                              seed_table=info.name,
                              description="Safer Maidstone Partnership, Strategic Assessment 2024/25"))
    return metrics


def catalogue(crime_types: list[tuple[str, str]]) -> dict[str, Metric]:
    """Every metric: the police groups, one per police.uk crime type present, and the seed tables."""
    metrics = {m.id: m for m in POLICE_GROUPS}
    for slug, name in crime_types:
        if slug != ASB:
            metrics.setdefault(slug, police_type_metric(slug, name))
    metrics.update({m.id: m for m in seed_metrics()})
    return metrics
