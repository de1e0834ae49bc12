"""The workbench's pages and actions (Starlette handlers). Every one but the login needs an
arbitrator; every POST needs the session's CSRF token; every action is logged with its actor."""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from services.arbitration.domain.model import RequestFacts, claim_holder
from services.arbitration.domain.ruling_checks import compensation_cap
from services.arbitration.workbench import forms
from services.arbitration.workbench.accounts import Account, Accounts
from services.arbitration.workbench.decisions import Decisions
from services.arbitration.workbench.evidence import shown
from services.arbitration.workbench.reads import QueryModel, QueueFilter
from services.arbitration.workbench.security import CSRF_FIELD, csrf_ok, csrf_token, user_id
from services.arbitration.workbench.settings import WorkbenchSettings
from services.arbitration.workbench.texts import LANGS, text
from services.arbitration.workbench.throttle import LoginThrottle
from services.arbitration.workbench.timeline import timeline

log = structlog.get_logger("workbench")
BEIJING = timezone(timedelta(hours=8), "北京时间")
ANSWER_WAIT_S = 30.0  # after this the page stops asking and says to reload


def beijing(ts: Any) -> str:
    if isinstance(ts, str):  # a time kept in a free-form part of the state comes back as its ISO text
        try:
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return ts
    if not isinstance(ts, datetime) or ts.tzinfo is None:
        return "—"
    return ts.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def yuan(fen: Any) -> str:
    return "—" if fen is None else f"¥{int(fen) / 100:,.2f}"


Handler = Callable[[Request, Account], Awaitable[Response]]



# The pages a language switch may return to: the workbench's own (a Referer is the client's to write).
BACK_TO = re.compile(r"^/(queue|cases/[A-Za-z0-9_.:\-]{1,128})$")


def back_to(referer: str) -> str:
    """The page the Referer names, if it is one of the workbench's own; else the queue."""
    path = urlsplit(referer).path if referer else ""
    return path if BACK_TO.match(path) else "/queue"

class Pages:
    def __init__(self, settings: WorkbenchSettings, reads: QueryModel, accounts: Accounts, decisions: Decisions,
                 templates: Jinja2Templates) -> None:
        self.settings, self.reads, self.accounts, self.decisions = settings, reads, accounts, decisions
        self.templates = templates
        self.throttle = LoginThrottle()
        templates.env.filters.update(beijing=beijing, yuan=yuan)
        templates.env.globals["holder"] = holder

    # ---- plumbing --------------------------------------------------------------------------

    def render(self, request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        lang = request.session.get("lang", "zh")
        return self.templates.TemplateResponse(request, name, {
            "t": lambda key: text(key, lang), "lang": lang, "csrf": csrf_token(request), "csrf_field": CSRF_FIELD,
            "now": datetime.now(timezone.utc), **ctx}, status_code=status_code)

    def staff(self, handler: Handler, *, post: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            uid = user_id(request, self.settings.sso_header, self.settings.sso_secret)
            if uid and not self.settings.sso_header and not await self.accounts.session_open(
                    request.session.get("sid", ""), uid, time.time()):
                request.session.clear()  # logged out elsewhere, or past the session's absolute lifetime
                uid = None
            account = await self.accounts.get(uid) if uid else None
            if account is None:
                if request.method == "GET":
                    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
                return self.render(request, "login.html", status_code=401, error="bad_login", next="/queue")
            if post and not csrf_ok(request, await request.form()):
                log.warning("workbench_csrf_refused", actor=account.id, path=request.url.path)
                return self.render(request, "error.html", status_code=403, user=account, error="csrf")
            return await handler(request, account)
        return endpoint

    async def act(self, request: Request, account: Account, case_id: str, type_: str, data: dict[str, Any]) -> Response:
        doc = await self.reads.case(case_id)
        if doc is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        event_id = await self.decisions.send(type_, {"order_id": doc["order_id"], "case_id": case_id, **data}, account.id)
        log.info("workbench_action", actor=account.id, action=type_, case_id=case_id, order_id=doc["order_id"],
                 command_event_id=event_id)
        return RedirectResponse(f"/cases/{case_id}?sent={event_id}", status_code=303)

    # ---- login -----------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        return self.render(request, "login.html", next=request.query_params.get("next", "/queue"))

    async def login(self, request: Request) -> Response:
        form = await request.form()
        target = str(form.get("next") or "/queue")
        if not target.startswith("/") or target.startswith("//"):
            target = "/queue"  # never redirect off the site
        if not csrf_ok(request, form):
            return self.render(request, "login.html", status_code=403, error="csrf", next=target)
        user, address = str(form.get("user", ""))[:64], request.client.host if request.client else ""
        if self.throttle.wait_s(user, address) > 0:
            log.warning("workbench_login_throttled", user=user, address=address)
            return self.render(request, "login.html", status_code=429, error="throttled", next=target)
        account = await self.accounts.verify(user, str(form.get("password", "")))
        if account is None:
            self.throttle.failed(user, address)
            log.warning("workbench_login_failed", user=user)
            return self.render(request, "login.html", status_code=401, error="bad_login", next=target)
        self.throttle.succeeded(user)
        lang = request.session.get("lang", "zh")
        request.session.clear()  # a new session on login: no fixation
        sid = secrets.token_urlsafe(24)
        # An absolute lifetime: the session ends this long after the login, however active.
        await self.accounts.open_session(sid, account.id, time.time() + self.settings.session_max_age_s)
        request.session.update(user=account.id, lang=lang, sid=sid)
        log.info("workbench_login", actor=account.id)
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request, account: Account) -> Response:
        await self.accounts.close_session(request.session.get("sid", ""))  # a copied cookie dies with it
        request.session.clear()
        log.info("workbench_logout", actor=account.id)
        return RedirectResponse("/login", status_code=303)

    async def language(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        if lang in LANGS:
            request.session["lang"] = lang
        return RedirectResponse(back_to(request.headers.get("referer", "")), status_code=303)

    # ---- queue and case ----------------------------------------------------------------------

    async def queue(self, request: Request, account: Account) -> Response:
        q = request.query_params
        try:
            low, high = forms.fen_of(q.get("min_yuan", "")), forms.fen_of(q.get("max_yuan", ""))
        except ValueError:
            low = high = None
        f = QueueFilter(reason=q.get("reason", ""), opened_by=q.get("opened_by", ""), min_fen=low, max_fen=high,
                        appeals_only=q.get("appeals") == "1")
        rows = await self.reads.queue(f, self.settings.queue_limit)
        return self.render(request, "queue.html", user=account, rows=rows, f=f, q=q, reasons=await self.reads.reasons(),
                           complaints=await self.reads.complaints(self.settings.queue_limit))

    async def complaint(self, request: Request, account: Account, errors: dict[str, str] | None = None,
                        form: Any = None, status_code: int = 200) -> Response:
        doc = await self.reads.complaint(request.path_params["complaint_id"])
        if doc is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        sent = request.query_params.get("sent", "")
        return self.render(request, "complaint.html", status_code=status_code, user=account, doc=doc,
                           evidence=[shown(e) for e in doc.get("evidence") or []],
                           answer_evidence=[shown(e) for e in doc.get("answer_evidence") or []],
                           errors=errors or {}, form=form or {}, sanction_levels=forms.SANCTION_LEVELS,
                           sent=sent if self.decisions.answer(sent) else "")

    async def decide_complaint(self, request: Request, account: Account) -> Response:
        """complaint.decide, in the arbitrator's name; the page follows the answer."""
        complaint_id = request.path_params["complaint_id"]
        if await self.reads.complaint(complaint_id) is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        form = await request.form()
        checked = forms.check_complaint_decision(form)
        if not checked.ok:
            return await self.complaint(request, account, errors=checked.errors, form=form, status_code=400)
        event_id = await self.decisions.send("complaint.decide", {"complaint_id": complaint_id, **checked.data},
                                             account.id)
        log.info("workbench_action", actor=account.id, action="complaint.decide", complaint_id=complaint_id,
                 command_event_id=event_id)
        return RedirectResponse(f"/complaints/{complaint_id}?sent={event_id}", status_code=303)

    async def case(self, request: Request, account: Account, errors: dict[str, str] | None = None,
                   form: Any = None, status_code: int = 200) -> Response:
        case_id = request.path_params["case_id"]
        doc = await self.reads.case(case_id)
        if doc is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        buyer, shop = await self.reads.records(doc)
        request_facts = RequestFacts.model_validate(doc["request"]) if doc.get("request") else None
        sent = request.query_params.get("sent", "")
        return self.render(
            request, "case.html", status_code=status_code, user=account, doc=doc, c=doc["case"],
            req=doc.get("request"), buyer=buyer, shop=shop, shown=shown, story=timeline(doc),
            outcomes=forms.outcomes_for(request_facts), payers=forms.PAYERS, misconduct=forms.MISCONDUCT,
            canned=forms.CANNED_REASONS, errors=errors or {}, form=form or {},
            held_by=holder(doc, datetime.now(timezone.utc)), sent=sent if self.decisions.answer(sent) else "",
            colleagues=await self.accounts.all() if account.supervisor else [],
            max_postage_fen=self.settings.max_postage_fen,
            compensation_cap_fen=compensation_cap(doc.get("reason", ""), doc.get("paid_fen")),
            sanction_levels=forms.SANCTION_LEVELS)

    async def claim(self, request: Request, account: Account) -> Response:
        return await self.act(request, account, request.path_params["case_id"], "case.claim", {})

    async def release(self, request: Request, account: Account) -> Response:
        return await self.act(request, account, request.path_params["case_id"], "case.release", {})

    async def assign(self, request: Request, account: Account) -> Response:
        if not account.supervisor:
            log.warning("workbench_assign_refused", actor=account.id, case_id=request.path_params["case_id"])
            return self.render(request, "error.html", status_code=403, user=account, error="only_supervisors")
        form = await request.form()
        to = await self.accounts.get(str(form.get("arbitrator_id", "")))
        if to is None:
            return await self.case(request, account, errors={"arbitrator_id": "choose_one"}, status_code=400)
        return await self.act(request, account, request.path_params["case_id"], "case.assign", {"arbitrator_id": to.id})

    async def ask_evidence(self, request: Request, account: Account) -> Response:
        form = await request.form()
        checked = forms.check_evidence_request(form)
        if not checked.ok:
            return await self.case(request, account, errors=checked.errors, form=form, status_code=400)
        return await self.act(request, account, request.path_params["case_id"], "evidence.request", checked.data)

    async def hold(self, request: Request, account: Account) -> Response:
        """funds.hold, or funds.release when the form says so: the case page follows the answer."""
        form = await request.form()
        checked = forms.check_hold(form)
        if not checked.ok:
            return await self.case(request, account, errors=checked.errors, form=form, status_code=400)
        type_ = "funds.release" if form.get("release") else "funds.hold"
        return await self.act(request, account, request.path_params["case_id"], type_, checked.data)

    async def review_ruling(self, request: Request, account: Account) -> Response:
        """The ruling form, checked: errors go back to the case page; a good ruling is shown for
        confirmation, and only the confirmation sends it."""
        checked, doc, form = await self._checked_ruling(request)
        if doc is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        if not checked.ok:
            return await self.case(request, account, errors=checked.errors, form=form, status_code=400)
        return self.render(request, "confirm.html", user=account, doc=doc, ruling=checked.data, form=form)

    async def rule(self, request: Request, account: Account) -> Response:
        checked, doc, form = await self._checked_ruling(request)
        if doc is None:
            return self.render(request, "error.html", status_code=404, user=account, error="not_found")
        if not checked.ok:
            return await self.case(request, account, errors=checked.errors, form=form, status_code=400)
        return await self.act(request, account, doc["_id"], "ruling.decide", checked.data)

    async def _checked_ruling(self, request: Request) -> tuple[forms.Checked, dict[str, Any] | None, Any]:
        form = await request.form()
        doc = await self.reads.case(request.path_params["case_id"])
        if doc is None:
            return forms.Checked(), None, form
        facts = RequestFacts.model_validate(doc["request"]) if doc.get("request") else None
        cap = compensation_cap(doc.get("reason", ""), doc.get("paid_fen"))
        return forms.check_ruling(form, facts, self.settings.max_postage_fen, cap), doc, form

    async def open_case_page(self, request: Request, account: Account, errors: dict[str, str] | None = None,
                             form: Any = None, status_code: int = 200) -> Response:
        return self.render(request, "open_case.html", status_code=status_code, user=account, errors=errors or {},
                           form=form or {}, reasons=forms.PLATFORM_REASONS, sent=request.query_params.get("sent", ""))

    async def open_case(self, request: Request, account: Account) -> Response:
        """The platform opens a case on its own (主动介入): sent as case.open; the page follows the answer."""
        form = await request.form()
        checked = forms.check_case_open(form)
        if not checked.ok:
            return await self.open_case_page(request, account, errors=checked.errors, form=form, status_code=400)
        event_id = await self.decisions.send("case.open", checked.data, account.id)
        log.info("workbench_action", actor=account.id, action="case.open", order_id=checked.data["order_id"],
                 command_event_id=event_id)
        return RedirectResponse(f"/cases/new?sent={event_id}", status_code=303)

    async def answer(self, request: Request, account: Account) -> Response:
        """The fragment that follows a sent command (htmx polls it until the service answered)."""
        event_id = request.path_params["event_id"]
        answer = self.decisions.answer(event_id)
        gave_up = answer is not None and not answer.done and time.monotonic() - answer.sent_at > ANSWER_WAIT_S
        return self.render(request, "_answer.html", user=account, event_id=event_id, answer=answer, gave_up=gave_up)


def holder(doc: dict[str, Any], now: datetime) -> str | None:
    """Who holds a case of the query model (its file or its queue document) at `now`."""
    until = doc.get("claimed_until")
    return claim_holder(doc.get("claimed_by"), until if isinstance(until, datetime) else None, now)
