"""The transition table is the lifecycle's single source of truth: every pair is specified here."""

import pytest

from impex.domain.status import (
    ACTIVE,
    OPERATOR_ACTIONS,
    TERMINAL,
    TRANSITIONS,
    A,
    Action,
    IllegalTransition,
    S,
    Status,
    allowed_actions,
    next_status,
    sources_for,
)

# The whole table, written out once more by hand: a change to the lifecycle must change both.
EXPECTED = {
    (A.START, S.EDITING): S.QUEUED,
    (A.START, S.PAUSED): S.QUEUED,
    (A.START, S.FINISHED): S.QUEUED,
    (A.START, S.FINISHED_WITH_ERRORS): S.QUEUED,
    (A.START, S.CANCELED): S.QUEUED,
    (A.START, S.SERVER_SHUTDOWN): S.QUEUED,
    (A.CLAIM, S.QUEUED): S.RUNNING,
    (A.PAUSE, S.RUNNING): S.PAUSING,
    (A.PAUSE, S.QUEUED): S.PAUSED,
    (A.PAUSE, S.SERVER_SHUTDOWN): S.PAUSED,
    (A.CHUNK_BOUNDARY_PAUSE, S.PAUSING): S.PAUSED,
    (A.CANCEL, S.QUEUED): S.CANCELED,
    (A.CANCEL, S.RUNNING): S.CANCELING,
    (A.CANCEL, S.PAUSING): S.CANCELING,
    (A.CANCEL, S.PAUSED): S.CANCELED,
    (A.CANCEL, S.SERVER_SHUTDOWN): S.CANCELED,
    (A.CHUNK_BOUNDARY_CANCEL, S.CANCELING): S.CANCELED,
    (A.FINISH, S.RUNNING): S.FINISHED,
    (A.FINISH, S.PAUSING): S.FINISHED,
    (A.FINISH, S.CANCELING): S.FINISHED,
    (A.FAIL, S.RUNNING): S.FINISHED_WITH_ERRORS,
    (A.FAIL, S.PAUSING): S.FINISHED_WITH_ERRORS,
    (A.FAIL, S.CANCELING): S.FINISHED_WITH_ERRORS,
    (A.SHUTDOWN, S.RUNNING): S.SERVER_SHUTDOWN,
    (A.SHUTDOWN, S.PAUSING): S.PAUSED,
    (A.SHUTDOWN, S.CANCELING): S.CANCELED,
    (A.RECOVER, S.RUNNING): S.QUEUED,
    (A.RECOVER, S.SERVER_SHUTDOWN): S.QUEUED,
    (A.RECOVER, S.PAUSING): S.PAUSED,
    (A.RECOVER, S.CANCELING): S.CANCELED,
}

ALL_PAIRS = [(a, s) for a in Action for s in Status]


def test_the_statuses_are_the_seeds_nine_plus_queued():
    assert {s.value for s in Status} == {
        "editing",
        "queued",
        "running",
        "pausing",
        "paused",
        "canceling",
        "canceled",
        "finished",
        "finished_with_errors",
        "server_shutdown",
    }


def test_the_table_is_exactly_the_specified_lifecycle():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("action", "source"), ALL_PAIRS, ids=lambda v: v.value)
def test_each_action_in_each_status_is_allowed_or_refused_as_specified(action, source):
    if (action, source) in EXPECTED:
        assert next_status(action, source) is EXPECTED[(action, source)]
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_status(action, source)
        assert f"cannot {action.value}" in str(refused.value)
        assert source.value in str(refused.value)


def test_pausing_a_finished_job_is_refused_with_a_message_naming_job_status_and_allowed_actions():
    error = IllegalTransition(7, A.PAUSE, S.FINISHED)
    assert str(error) == "cannot pause job 7: it is finished (operator actions allowed now: start)"


def test_buttons_shown_follow_the_table():
    assert allowed_actions(S.EDITING) == (A.START,)
    assert allowed_actions(S.RUNNING) == (A.PAUSE, A.CANCEL)
    assert allowed_actions(S.PAUSED) == (A.START, A.CANCEL)
    assert allowed_actions(S.QUEUED) == (A.PAUSE, A.CANCEL)
    assert allowed_actions(S.CANCELING) == ()
    assert allowed_actions(S.FINISHED) == (A.START,)
    for status in Status:
        assert set(allowed_actions(status)) <= set(OPERATOR_ACTIONS)


def test_terminal_statuses_only_allow_a_new_start():
    for status in TERMINAL:
        assert allowed_actions(status) == (A.START,)
        assert not any(src is status for (act, src) in TRANSITIONS if act is not A.START)


def test_guards_are_derived_from_the_table():
    assert sources_for(A.CANCEL) == {S.QUEUED, S.RUNNING, S.PAUSING, S.PAUSED, S.SERVER_SHUTDOWN}
    assert sources_for(A.CLAIM) == {S.QUEUED}


def test_active_statuses_are_those_a_worker_is_responsible_for():
    assert {S.QUEUED, S.RUNNING, S.PAUSING, S.CANCELING} == ACTIVE
