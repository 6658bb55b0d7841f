"""Custom search attributes, so ops can find and follow any transfer in the Temporal UI."""

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("WtStatus")
TEAM = SearchAttributeKey.for_keyword("WtTeam")
REP = SearchAttributeKey.for_keyword("WtRep")
BRANCH = SearchAttributeKey.for_keyword("WtBranch")
SCORE = SearchAttributeKey.for_int("WtScore")

ALL = (STATUS, TEAM, REP, BRANCH, SCORE)
