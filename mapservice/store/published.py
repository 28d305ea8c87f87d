"""What anonymous readers may see: sensitive layers show only their published features.

Every public surface (API without a token, maps, embeds, finder, planner) reads through this
view, so a draft camera cannot leak through one of them by being forgotten. A layer is
sensitive when its catalog entry says ``publication = true``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, Literal

from ..cache import VersionedCache
from ..catalog.layers import PUBLICATION_FIELD, PUBLISHED, Catalog
from . import base
from .base import BBox, Filter, LayerState, Query, QueryResult, Shape, Store, StoredFeature, StoreError

# The layer that surveys of municipalities fill (mapservice/survey).
SURVEYED_LAYER = "prevention-bodies"


class PublishedView(Store):
    """A read-only view of ``inner`` without unpublished features of sensitive layers."""

    def __init__(self, inner: Store, catalog: Catalog) -> None:
        self.inner = inner
        self.catalog = catalog
        # Count and extent of the published part, per layer version, for a store that does
        # not keep them with the version (the SQL stores do).
        self._summaries = VersionedCache()

    def _sensitive(self, layer_id: str) -> bool:
        return layer_id in self.catalog and self.catalog[layer_id].publication

    def layer_ids(self) -> list[str]:
        return self.inner.layer_ids()

    def _public(self, layer_id: str, query: Query) -> Query:
        if not self._sensitive(layer_id):
            return query
        # Without other conditions, numberMatched is the published count kept per version.
        matched = None if query.restricted else self.state(layer_id).count
        return replace(query, filters=[*query.filters, Filter(PUBLICATION_FIELD, PUBLISHED)], matched=matched)

    def query(self, layer_id: str, query: Query) -> QueryResult:
        result = self.inner.query(layer_id, self._public(layer_id, query))
        return result if layer_id != SURVEYED_LAYER else replace(result, version=None)

    def query_encoded(self, layer_id: str, query: Query) -> base.EncodedPage:
        page = self.inner.query_encoded(layer_id, self._public(layer_id, query))
        # A page's version is the one this view's state() names. Of the surveyed layer that
        # is the layer's and the surveys' together, which the page's snapshot did not read.
        return page if layer_id != SURVEYED_LAYER else replace(page, version=None)

    def shapes(self, layer_id: str, filters: Sequence[Filter] = ()) -> list[Shape]:
        if self._sensitive(layer_id):
            filters = [*filters, Filter(PUBLICATION_FIELD, PUBLISHED)]
        return self.inner.shapes(layer_id, filters)

    def feature_ids(self, layer_id: str) -> set[str]:
        if self._sensitive(layer_id):
            return {f.id for f in self.all_features(layer_id)}
        return self.inner.feature_ids(layer_id)

    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        feature = self.inner.get(layer_id, feature_id)
        if (
            feature is not None
            and self._sensitive(layer_id)
            and feature.properties.get(PUBLICATION_FIELD) != PUBLISHED
        ):
            return None
        return feature

    def feature_revision(self, layer_id: str, feature_id: str) -> str | None:
        if self._sensitive(layer_id):
            feature = self.get(layer_id, feature_id)
            return None if feature is None else base.revision(feature)
        return self.inner.feature_revision(layer_id, feature_id)

    def state(self, layer_id: str) -> LayerState:
        state = self.inner.state(layer_id)
        if not self._sensitive(layer_id):
            return state
        if state.published_count is not None:  # kept by every write (SqlStore._bump)
            count, extent = state.published_count, state.published_extent
        else:
            versions = (state.version, state.updated_at.isoformat())
            count, extent = self._summaries.get(layer_id, versions, lambda: self._summary(layer_id))
        # The version stays the inner one: any write may change what is published.
        state = replace(state, count=count, extent=extent)
        if layer_id == SURVEYED_LAYER:
            # What the public sees of this layer includes the survey status of each
            # municipality (maps, planner): a step in a survey is a new version of it too.
            # Both versions only grow, so their sum changes whenever either does.
            surveys = self.inner.survey_state()
            state = replace(
                state,
                version=state.version + surveys.version,
                updated_at=max(state.updated_at, surveys.updated_at),
            )
        return state

    def _summary(self, layer_id: str) -> tuple[int, BBox | None]:
        # Counted by the store (an index on the publication state), never by reading features.
        return self.inner.count_and_extent(layer_id, [Filter(PUBLICATION_FIELD, PUBLISHED)])

    # -- the view is read-only: writes go to the store itself, with a token ------------------

    def _read_only(self) -> StoreError:
        return StoreError("the public view of the store is read-only")

    def replace(
        self,
        layer_id: str,
        features: Sequence[base.NewFeature],
        actor: str | None = None,
        via: str = "import",
    ) -> LayerState:
        raise self._read_only()

    def edit(
        self,
        layer_id: str,
        edit: base.Edit,
        actor: str,
        via: str = "api",
        check: base.Precondition | None = None,
    ) -> base.EditResult:
        raise self._read_only()

    def history(self, layer_id: str, feature_id: str) -> list[base.HistoryEntry]:
        raise self._read_only()

    def changes_since(self, layer_id: str, since: dt.datetime) -> list[base.HistoryEntry]:
        """The changes a reader could have seen: an unpublished side counts as absent, so
        publishing reads as added and withdrawing as removed; drafts do not appear at all."""
        entries = self.inner.changes_since(layer_id, since)
        if not self._sensitive(layer_id):
            return entries

        def public(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None or (doc.get("properties") or {}).get(PUBLICATION_FIELD) != PUBLISHED:
                return None
            return doc

        out = []
        for e in entries:
            before, after = public(e.before), public(e.after)
            if before is None and after is None:
                continue
            action: Literal["create", "update", "delete"] = (
                "create" if before is None else "delete" if after is None else "update"
            )
            out.append(replace(e, before=before, after=after, action=action))
        return out

    def add_token(self, token: base.Token) -> None:
        raise self._read_only()

    def tokens(self) -> list[base.Token]:
        raise self._read_only()

    def token(self, token_id: str) -> base.Token | None:
        raise self._read_only()

    def revoke_token(self, token_id: str) -> bool:
        raise self._read_only()

    # Surveys: who was asked and whether they answered is public (the map shows it); what an
    # answer says is public only once a reviewer approved it. Links and reviews are written
    # by the survey's own routes and the CLI, through the store itself.

    def add_survey(self, survey: base.Survey, invitations: Sequence[base.Invitation]) -> None:
        raise self._read_only()

    def surveys(self) -> list[base.Survey]:
        return self.inner.surveys()

    def survey(self, survey_id: str) -> base.Survey | None:
        return self.inner.survey(survey_id)

    def close_survey(self, survey_id: str, at: dt.datetime) -> bool:
        raise self._read_only()

    def invitations(self, survey_id: str) -> list[base.Invitation]:
        # Who was asked, without the links' hashes: those are for checking a link, not for readers.
        return [replace(i, secret_hash="") for i in self.inner.invitations(survey_id)]

    def invitation(self, token_id: str) -> base.Invitation | None:
        raise self._read_only()  # a link is checked against the store itself, never here

    def mark_opened(self, survey_id: str, ags: str, at: dt.datetime) -> None:
        raise self._read_only()

    def answers(self, survey_id: str, ags: str | None = None) -> list[base.SurveyAnswer]:
        """The answers as the public may know them: when each was sent, and the content of
        approved ones only (a pending or rejected answer's content stays with the reviewers)."""
        return [
            a if a.review == "approved" else replace(a, answer={}, review_note=None, reviewer=None)
            for a in self.inner.answers(survey_id, ags)
        ]

    def submit_answer(self, answer: base.SurveyAnswer, write: base.SurveyWrite) -> base.SurveyAnswer:
        raise self._read_only()

    def review_answer(
        self, seq: int, decision: str, reviewer: str, note: str | None, write: base.SurveyWrite
    ) -> base.SurveyAnswer:
        raise self._read_only()

    def count_survey_failure(
        self, client: str, at: dt.datetime, window: dt.timedelta, record: bool = True
    ) -> int:
        raise self._read_only()

    def survey_state(self) -> LayerState:
        return self.inner.survey_state()

    # Address points are public by nature (they are what a citizen types); only the CLI writes.

    def replace_addresses(
        self,
        source: base.AddressSource,
        batches: Iterable[Sequence[base.AddressRow]],
        summary: Callable[[], base.AddressSummary],
    ) -> base.AddressSource:
        raise self._read_only()

    def remove_address_source(self, name: str) -> bool:
        raise self._read_only()

    def address_sources(self) -> list[base.AddressSource]:
        return self.inner.address_sources()

    def address_state(self) -> base.AddressState:
        return self.inner.address_state()

    def address_places(self, street_key: str) -> list[str]:
        return self.inner.address_places(street_key)

    def addresses_on(
        self, street_key: str, place_keys: Sequence[str] | None = None, housenumber_key: str | None = None
    ) -> list[tuple[str, base.AddressRow]]:
        return self.inner.addresses_on(street_key, place_keys, housenumber_key)

    def address_streets(self) -> list[base.AddressStreet]:
        return self.inner.address_streets()

    def close(self) -> None:
        self.inner.close()
