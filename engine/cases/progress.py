"""Cases move by themselves: help started, help finished, evaluated — as the system.

The case workflow names, per automatic event, the fact that fires it (``when``); this
module knows how to establish each fact from the database and fires the events as the
``system`` person through the case lifecycle — the same checks, the same audit chain.
It runs

- inside a help task's transition (an observer of the task lifecycle), so the case
  follows in the same transaction as the task that moved it;
- after results or a risk list were imported, and in the daemon's periodic check, for
  what time and new data change (a programme's period ending, the next round
  arriving). The check reads only cases in states that wait for such facts (an index on
  ``state``), not every case.

Evaluation is stored once per state of the data: ``data_stamp`` is the newest data
import, so the same data is judged once and new data is judged again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from engine.cases.evaluate import Evaluation, evaluate
from engine.cases.rules import CaseRules
from engine.core.clock import Clock, local_date
from engine.core.db import session_scope
from engine.core.models import (
    AdministrativeMeasure,
    AssessmentResult,
    AuditEvent,
    CaseEvaluation,
    DataImport,
    Measure,
    Plan,
    RiskFlag,
    SchoolCase,
    Task,
    pk,
)
from engine.lifecycle import audit
from engine.lifecycle.fire import Fired, Lifecycle, system_actor
from engine.lifecycle.workflow import Fact, WorkflowDef

log = logging.getLogger(__name__)

#: Facts that change with time or new data, not with a person's action: the periodic
#: check looks at cases waiting for these.
_TIMED: frozenset[str] = frozenset({"help_finished", "shift_found", "no_shift_found"})
_EVALUATED: frozenset[str] = frozenset({"shift_found", "no_shift_found"})
_MAX_MOVES = 10


@dataclass(frozen=True)
class HelpProgress:
    """A case's help tasks counted by what their states mean."""

    total: int
    done: int
    closed: int
    started: int  # out of the initial state
    overdue: int
    period_end: date | None

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done > 0 and self.done + self.closed == self.total

    @property
    def unconfirmed(self) -> int:
        return self.total - self.done - self.closed


@dataclass
class CheckResult:
    cases: int = 0
    moves: int = 0
    conflicts: int = 0
    moved: list[tuple[int, str, str]] = field(default_factory=list)  # (case, from, to)


@dataclass
class CaseEngine:
    """What moving cases needs: the case lifecycle, the task workflow, the rules."""

    cases: Lifecycle
    tasks: WorkflowDef
    admin: WorkflowDef
    rules: CaseRules
    clock: Clock

    @property
    def workflow(self) -> WorkflowDef:
        return self.cases.definition

    def today(self) -> date:
        return local_date(self.clock, self.cases.zone)

    # -- facts ----------------------------------------------------------------------------

    def help_tasks(self, session: Session, case: SchoolCase) -> list[Task]:
        if case.help_plan_id is None:
            return []
        return list(
            session.exec(
                select(Task)
                .join(Measure, col(Measure.id) == Task.measure_id)
                .where(
                    Measure.plan_id == case.help_plan_id,
                    Task.school_id == case.school_id,
                    col(Task.detached_at).is_(None),
                )
                .order_by(col(Task.due_date).asc().nulls_last(), col(Task.id))
            )
        )

    def progress(self, session: Session, case: SchoolCase) -> HelpProgress:
        tasks = self.help_tasks(session, case)
        plan = session.get(Plan, case.help_plan_id) if case.help_plan_id else None
        today = self.today()
        meaning = self.tasks.meaning
        return HelpProgress(
            total=len(tasks),
            done=sum(meaning(t.state) == "done" for t in tasks),
            closed=sum(meaning(t.state) == "closed" for t in tasks),
            started=sum(t.state != self.tasks.initial for t in tasks),
            overdue=sum(
                t.due_date is not None and t.due_date < today and t.state in self.tasks.owing
                for t in tasks
            ),
            period_end=plan.period_end if plan else None,
        )

    @staticmethod
    def next_round_arrived(session: Session, case: SchoolCase) -> bool:
        """Results of the next round, or the next list of this kind, are in."""
        return CaseEngine.round_after_arrived(session, case.year, case.kind)

    @staticmethod
    def round_after_arrived(session: Session, year: int, kind: str) -> bool:
        after = year + 1
        results = session.exec(
            select(AssessmentResult.id).where(AssessmentResult.year == after).limit(1)
        ).first()
        if results is not None:
            return True
        listed = session.exec(
            select(RiskFlag.id)
            .where(RiskFlag.year == after, RiskFlag.kind == kind, RiskFlag.source != "")
            .limit(1)
        ).first()
        return listed is not None

    @staticmethod
    def data_stamp(session: Session) -> int:
        return int(session.exec(select(func.max(DataImport.id))).one() or 0)

    @staticmethod
    def latest_evaluation(session: Session, case: SchoolCase) -> CaseEvaluation | None:
        return session.exec(
            select(CaseEvaluation)
            .where(CaseEvaluation.case_id == case.id)
            .order_by(col(CaseEvaluation.id).desc())
            .limit(1)
        ).first()

    def compute_evaluation(self, session: Session, case: SchoolCase) -> Evaluation:
        flags = session.exec(
            select(RiskFlag).where(
                RiskFlag.school_id == case.school_id,
                RiskFlag.kind == case.kind,
                RiskFlag.year == case.year,
            )
        ).all()

        def results(year: int) -> Sequence[AssessmentResult]:
            return session.exec(
                select(AssessmentResult).where(
                    AssessmentResult.school_id == case.school_id,
                    AssessmentResult.year == year,
                    AssessmentResult.procedure == "ВПР",
                )
            ).all()

        list_in = session.exec(
            select(RiskFlag.id)
            .where(RiskFlag.kind == case.kind, RiskFlag.year == case.year + 1)
            .where(RiskFlag.source != "")
            .limit(1)
        ).first()
        next_list = (
            session.exec(
                select(RiskFlag).where(
                    RiskFlag.school_id == case.school_id,
                    RiskFlag.kind == case.kind,
                    RiskFlag.year == case.year + 1,
                )
            ).all()
            if list_in is not None
            else None
        )
        return evaluate(
            self.rules,
            case.kind,
            case.year,
            flags,
            results(case.year),
            results(case.year + 1),
            next_list,
        )

    def evaluation(self, session: Session, case: SchoolCase) -> CaseEvaluation:
        """The latest stored evaluation, judged anew if data arrived since (then stored)."""
        stamp = self.data_stamp(session)
        latest = self.latest_evaluation(session, case)
        if latest is not None and latest.data_stamp == stamp:
            return latest
        result = self.compute_evaluation(session, case)
        row = CaseEvaluation(
            case_id=pk(case),
            at=self.clock.now(),
            year_before=case.year,
            year_after=case.year + 1,
            verdict=result.verdict,
            summary=result.summary,
            details=[p.as_json() for p in result.pairs],
            data_stamp=stamp,
        )
        session.add(row)
        session.flush()
        log.info("case %s evaluated: %s (%s)", case.id, result.verdict, result.summary)
        return row

    def administrative_approved(self, session: Session, case: SchoolCase, override: bool) -> bool:
        return (
            session.exec(
                select(AdministrativeMeasure.id)
                .where(
                    AdministrativeMeasure.case_id == case.id,
                    AdministrativeMeasure.override == override,
                    col(AdministrativeMeasure.state).in_(self.admin.done),
                )
                .limit(1)
            ).first()
            is not None
        )

    def holds(self, session: Session, case: SchoolCase, fact: Fact) -> bool:
        if fact == "help_started":
            return self.progress(session, case).started > 0
        if fact == "help_finished":
            progress = self.progress(session, case)
            if progress.finished:
                return True
            ended = progress.period_end is not None and progress.period_end < self.today()
            return progress.total > 0 and ended and self.next_round_arrived(session, case)
        if fact in _EVALUATED:
            verdict = self.evaluation(session, case).verdict
            return verdict == ("shift" if fact == "shift_found" else "no_shift")
        if fact == "administrative_approved":
            return self.administrative_approved(session, case, override=False)
        return self.administrative_approved(session, case, override=True)

    # -- moving ---------------------------------------------------------------------------

    def advance(self, session: Session, case: SchoolCase, note: str = "") -> list[Fired]:
        """Fire every automatic event whose fact holds, one after another (caller commits)."""
        fired: list[Fired] = []
        for _ in range(_MAX_MOVES):
            event = next(
                (
                    e
                    for e in self.workflow.automatic(case.state)
                    if e.when is not None and self.holds(session, case, e.when)
                ),
                None,
            )
            if event is None:
                break
            comment = self.explain(session, case, event.when) or note
            fired.append(
                self.cases.fire_in(
                    session, case, event.name, system_actor(session), comment, system=True
                )
            )
        return fired

    def explain(self, session: Session, case: SchoolCase, fact: Fact | None) -> str:
        """Why the system moved the case, for the audit row (Russian)."""
        if fact in ("help_started", "help_finished"):
            p = self.progress(session, case)
            if fact == "help_started":
                return f"Начато мероприятий программы помощи: {p.started} из {p.total}."
            if p.finished:
                return (
                    "Все мероприятия программы помощи завершены: "
                    f"подтверждено {p.done} из {p.total}."
                )
            return (
                f"Период программы помощи истёк {p.period_end:%d.%m.%Y}; поступили данные "
                f"{case.year + 1} года. Подтверждено {p.done} из {p.total} мероприятий."
            )
        if fact in _EVALUATED:
            latest = self.evaluation(session, case)
            return f"Оценка по правилам rules.toml: {latest.summary}"
        return ""

    def on_task_fired(self, session: Session, fired: Fired) -> None:
        """Observer of the task lifecycle: the case of a help task follows it."""
        task = fired.row
        if not isinstance(task, Task) or task.school_id is None:
            return
        measure = session.get(Measure, task.measure_id)
        if measure is None:
            return
        watched = self.workflow.watched
        for case in session.exec(
            select(SchoolCase).where(
                SchoolCase.help_plan_id == measure.plan_id,
                SchoolCase.school_id == task.school_id,
                col(SchoolCase.state).in_(watched),
            )
        ):
            self.advance(session, case, f"После действия по задаче {task.id}.")

    def timed_states(self) -> tuple[str, ...]:
        return tuple(
            s
            for s in self.workflow.states
            if any(e.when in _TIMED for e in self.workflow.automatic(s))
        )

    def _states_waiting_for(self, facts: frozenset[str]) -> list[str]:
        return [
            s
            for s in self.workflow.states
            if any(e.when in facts for e in self.workflow.automatic(s))
        ]

    def due_case_ids(self, session: Session) -> list[int]:
        """The waiting cases a fact may now hold for, by set queries (no case is judged):

        - waiting for the help to finish: the help programme's period has ended, the next
          round's data is in and the school has help tasks (finishing every task moves
          the case in that task's own transaction, see :meth:`on_task_fired`);
        - waiting for an evaluation: none stored for the current data, or one whose
          verdict should have moved the case.

        What else can make a fact hold without new data or a new day (a help plan edited
        so that the tasks left are all done) is taken by the full check, once a day.
        """
        ids: set[int | None] = set()
        finishing = self._states_waiting_for(frozenset({"help_finished"}))
        if finishing:
            waiting = session.exec(
                select(SchoolCase.year, SchoolCase.kind)
                .join(Plan, col(Plan.id) == SchoolCase.help_plan_id)
                .where(col(SchoolCase.state).in_(finishing), Plan.period_end < self.today())
                .distinct()
            ).all()
            for year, kind in waiting:
                if not self.round_after_arrived(session, year, kind):
                    continue
                has_help = (
                    select(Task.id)
                    .join(Measure, col(Measure.id) == Task.measure_id)
                    .where(
                        Measure.plan_id == SchoolCase.help_plan_id,
                        Task.school_id == SchoolCase.school_id,
                        col(Task.detached_at).is_(None),
                    )
                    .exists()
                )
                ids.update(
                    session.exec(
                        select(SchoolCase.id)
                        .join(Plan, col(Plan.id) == SchoolCase.help_plan_id)
                        .where(
                            col(SchoolCase.state).in_(finishing),
                            Plan.period_end < self.today(),
                            SchoolCase.year == year,
                            SchoolCase.kind == kind,
                            has_help,
                        )
                    ).all()
                )
        judged = self._states_waiting_for(_EVALUATED)
        if judged:
            settled = (
                select(CaseEvaluation.id)
                .where(
                    CaseEvaluation.case_id == SchoolCase.id,
                    CaseEvaluation.data_stamp == self.data_stamp(session),
                    col(CaseEvaluation.verdict).not_in(("shift", "no_shift")),
                )
                .exists()
            )
            ids.update(
                session.exec(
                    select(SchoolCase.id).where(col(SchoolCase.state).in_(judged), ~settled)
                ).all()
            )
        return sorted(i for i in ids if i is not None)

    def check(self, engine: Engine, *, full: bool = True) -> CheckResult:
        """The periodic check: cases waiting for time or data, each case its own transaction.

        ``full``: every waiting case is judged (once a day, and after data came in);
        otherwise only :meth:`due_case_ids`, so that a check with nothing due costs a few
        set queries, not a transaction per waiting case. A case another daemon holds is
        skipped (``SKIP LOCKED``); one moved by somebody meanwhile is left to the next run.
        """
        result = CheckResult()
        states = self.timed_states()
        with session_scope(engine) as session:
            if full:  # the state index alone: the ids of the waiting cases
                ids = sorted(
                    pk(case)
                    for case in session.exec(
                        select(SchoolCase).where(col(SchoolCase.state).in_(states))
                    )
                )
            else:
                ids = self.due_case_ids(session)
        for case_id in ids:
            try:
                with session_scope(engine) as session:
                    case = session.exec(
                        select(SchoolCase)
                        .where(SchoolCase.id == case_id, col(SchoolCase.state).in_(states))
                        .with_for_update(skip_locked=True)
                    ).first()
                    if case is None:
                        continue  # moved meanwhile, or another daemon holds it
                    result.cases += 1
                    before = case.state
                    moves = self.advance(session, case)
                    session.commit()
            except (StaleDataError, IntegrityError):
                result.conflicts += 1
                continue
            result.moves += len(moves)
            if moves:
                result.moved.append((case_id, before, case.state))
        if result.moves:
            log.info("cases: %d checked, %d moved", result.cases, result.moves)
        return result


def open_case(
    session: Session,
    workflow: WorkflowDef,
    school_id: int,
    kind: str,
    year: int,
    comment: str,
    now: datetime,
    audit_key: bytes,
) -> SchoolCase:
    """A new case in the initial state, its opening audited as the system's (caller commits)."""
    case = SchoolCase(
        school_id=school_id,
        kind=kind,
        year=year,
        state=workflow.initial,
        state_since=now,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    audit.append(
        session,
        AuditEvent(
            case_id=pk(case),
            event="open",
            from_state="",
            to_state=case.state,
            actor_id=pk(system_actor(session)),
            at=now,
            comment=comment,
            seq=0,
            prev_hash="",
            hash="",
        ),
        audit_key,
    )
    return case
