"""Custom search attributes, so ops can find and follow any transfer in the Temporal UI."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("WtStatus")
TEAM = SearchAttributeKey.for_keyword("WtTeam")
REP = SearchAttributeKey.for_keyword("WtRep")
BRANCH = SearchAttributeKey.for_keyword("WtBranch")
SCORE = SearchAttributeKey.for_int("WtScore")

ALL = (STATUS, TEAM, REP, BRANCH, SCORE)


class Index:
    """What the transfer last wrote to its search attributes: a value is upserted only when it changed."""

    def __init__(self) -> None:
        self._written: dict[str, str | int] = {}

    def update(self, status: str, branch: str | None, team: str | None, rep_id: str | None, score: int | None) -> None:
        wanted = {STATUS: status, BRANCH: branch or "", TEAM: team or "", REP: rep_id or "", SCORE: score or 0}
        changed = [key.value_set(value) for key, value in wanted.items() if self._written.get(key.name) != value]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._written.update({key.name: value for key, value in wanted.items()})
