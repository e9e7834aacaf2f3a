"""The printed draw record (A4 portrait, signed, with the JSON record attached) and the one-page
pre-draw notice (抽取前公告).

The record PDF is a rendering of the signed JSON record alone (plus the times from the session's
event log and the names of excluded units): everything needed to re-derive the draw on paper is
printed — the four input hashes and the commitment, each witness's digits, the nonce, the seed, the
parameters, the full candidate pool and the inspector and expert lists — and the record itself is
attached as ``<session>.json`` before the PDF is signed, so the signature covers it.

:func:`verify_record_pdf` (in :mod:`.record_check`) checks both layers: the PDF signature (:func:`~dsj_desktop.pdf.verify.verify_pdf`)
and the attached record (:func:`~dsj_desktop.draw.record.verify_record`, DSJ-DRAW-1 section 9).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from dsj_desktop.db.engine import Database
from dsj_desktop.draw.algorithm import MIN_WITNESS_DIGITS, canonical_json
from dsj_desktop.draw.record import (
    STATUS_VOIDED,
    RecordError,
    public_key_fingerprint,
)
from dsj_desktop.errors import UserError
from dsj_desktop.fileutil import atomic_write_bytes
from dsj_desktop.keys import KeyStore, group_hex
from dsj_desktop.pdf.document import Column, PdfDocument
from dsj_desktop.pdf.sign import Attachment, SignedPdf, sign_pdf
from dsj_desktop.pdf.text import TextMeasure, markup
from dsj_desktop.publish.record_check import RecordPdfCheck as RecordPdfCheck  # re-exported
from dsj_desktop.publish.record_check import attachment_name
from dsj_desktop.publish.record_check import verify_record_pdf as verify_record_pdf  # re-exported
from dsj_desktop.services import draw_ready, sessions, settings

RECORD_TITLE = "“双随机、一公开”随机抽取记录"
NOTICE_TITLE = "随机抽取前公告"
VOID_MARK = "作废"
STATUS_TITLES = {"confirmed": "已确认", "voided": "已作废"}
HASH_TITLES = (
    ("targets", "检查对象名单摘要 H_targets"),
    ("inspectors", "执法人员名单摘要 H_inspectors"),
    ("experts", "专家名单摘要 H_experts"),
    ("params", "抽取参数摘要 H_params"),
)
TICKET_SHOWN = 16  # hex digits of a ticket printed in the result table (the JSON has all 64)
RED = colors.HexColor("#b71c1c")
RED_FILL = colors.HexColor("#fdecea")
_CN_NUMBERS = "一二三四五六七八九十"


def record_json_bytes(record: Mapping[str, Any]) -> bytes:
    """The record file as written beside the PDF and attached to it (UTF-8, indented, sorted)."""
    return (json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def format_time(iso: str | None) -> str:
    """``2026-06-01T09:30:12+08:00`` → ``2026-06-01 09:30:12``."""
    if not iso:
        return ""
    return iso[:19].replace("T", " ")


def event_times(events: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The first time of each kind of event (prepare, commit, reveal, confirm, void)."""
    out: dict[str, str] = {}
    for e in events:
        out.setdefault(str(e["kind"]), format_time(str(e["at"])))
    return out


def stratum_title(stratum: str | None) -> str:
    return stratum if stratum else "全部（不分层）"


@dataclass(frozen=True)
class _People:
    """Names of everything a record mentions, looked up by id."""

    targets: dict[str, str]
    strata: dict[str, str]
    inspectors: dict[str, tuple[str, str]]  # id → (name, unit)
    experts: dict[str, str]

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> _People:
        targets = {t["id"]: t.get("name") or "" for t in record.get("targets", [])}
        strata = {t["id"]: t.get("stratum") or "" for t in record.get("targets", [])}
        for m in record.get("mandatory_targets", []):
            targets[m["id"]] = m.get("name") or ""
        inspectors = {
            p["id"]: (p.get("name") or "", p.get("unit") or "") for p in record.get("inspectors", [])
        }
        experts = {p["id"]: p.get("name") or "" for p in record.get("experts", [])}
        return cls(targets, strata, inspectors, experts)

    def person(self, pid: str, kind: str = sessions.INSPECTOR) -> str:
        name = self.experts.get(pid, "") if kind == sessions.EXPERT else self.inspectors.get(pid, ("", ""))[0]
        return f"{name}（{pid}）" if name else pid

    def target(self, tid: str) -> str:
        return self.targets.get(tid, "") or tid


def team_chains(
    selected: Mapping[str, Any], substitutions: Sequence[Mapping[str, Any]], kind: str
) -> list[list[str]]:
    """Each drawn member of one target's team (or panel of experts) followed by whoever replaced
    them, in order: ``[["A"], ["B", "C"]]`` when C replaced B."""
    chains = [[p] for p in selected[kind + "s"]]
    for sub in substitutions:
        if sub["target"] != selected["id"] or sub.get("kind", sessions.INSPECTOR) != kind:
            continue
        for chain in chains:
            if chain[-1] == sub["removed"]:
                chain.append(sub["substitute"])
                break
    return chains


def _chain_text(chains: list[list[str]], people: _People, kind: str) -> str:
    parts = []
    for chain in chains:
        text = "\n→ ".join(people.person(p, kind) for p in chain)
        parts.append(text + ("（递补）" if len(chain) > 1 else ""))
    return "\n".join(parts)


def _nonce_check(nonce: Any, commitment: Any) -> str:
    if not nonce:
        return "—"
    computed = hashlib.sha256(str(nonce).encode("utf-8")).hexdigest()
    return "一致：H(N) = C" if computed == commitment else f"不一致！H(N) = {computed}"


# ---------------------------------------------------------------------------------------------
# The record


class _Numbering:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, title: str) -> str:
        self.n += 1
        return f"{_CN_NUMBERS[self.n - 1] if self.n <= 10 else self.n}、{title}"


def _void_banner(doc: PdfDocument, reason: str, detail: str) -> None:
    big = ParagraphStyle("void-big", parent=doc.styles["title"], textColor=RED, fontSize=22, leading=30)
    body = ParagraphStyle("void-body", parent=doc.styles["body"], textColor=RED)
    cell = [
        Paragraph(markup("本场次已作废"), big),
        Paragraph(
            markup(
                doc.clip(
                    f"作废原因：{reason}", doc.frame_width - 16, size=body.fontSize, leading=body.leading
                )
            ),
            body,
        ),
        Paragraph(markup(detail), body),
    ]
    table = Table(
        [[cell]],
        colWidths=[doc.frame_width],
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), doc.font),  # else the cell selects (unembedded) Helvetica
                ("BOX", (0, 0), (-1, -1), 2, RED),
                ("BACKGROUND", (0, 0), (-1, -1), RED_FILL),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    doc.add(table, Spacer(1, 4 * mm))


def _wrapped(doc: PdfDocument, text: str, size: float, width: float) -> str:
    return "\n".join(TextMeasure(doc.font, size).wrap_lines(text, width))


def build_record_document(
    record: Mapping[str, Any],
    *,
    times: Mapping[str, str] | None = None,
    exclusion_names: Mapping[str, str] | None = None,
) -> PdfDocument:
    """The record as a document (unsigned; see :func:`record_pdf` for the signed file)."""
    times = times or {}
    exclusion_names = exclusion_names or {}
    task: Mapping[str, Any] = record.get("task") or {}
    session = str(record["session"])
    voided = record.get("status") == STATUS_VOIDED
    version = record.get("version")
    people = _People.of(record)
    params: Mapping[str, Any] = record.get("params") or {}
    selected: list[Mapping[str, Any]] = list(record.get("selected") or [])
    subs: list[Mapping[str, Any]] = list(record.get("substitutions") or [])
    witnesses: list[Mapping[str, Any]] = list(record.get("witnesses") or [])
    experts_drawn = int(params.get("expert_count") or 0) > 0
    digest = sessions.record_sha256(dict(record))
    bureau = str(task.get("bureau") or "")

    doc = PdfDocument(
        RECORD_TITLE,
        bureau=bureau,
        doc_id=session,
        subject=f"{task.get('code', '')} {task.get('name', '')} 抽取记录",
        watermark=VOID_MARK if voided else None,
        header_mark=STATUS_TITLES[STATUS_VOIDED] if voided else None,
    )
    status = STATUS_TITLES.get(str(record.get("status")), str(record.get("status")))
    lines = [f"场次编号：{session}　　状态：{status}" + (f"　　记录第 {version} 版" if version else "")]
    if bureau:
        lines.insert(0, bureau)
    doc.heading(subtitle=f"{task.get('code', '')}　{task.get('name', '')}", lines=lines)
    if voided:
        detail = "作废的抽取同样签名保存、永久保留，并列入本任务下一次抽取的记录；其结果不具约束力。"
        if times.get("void"):
            detail = f"作废时间：{times['void']}。" + detail
        _void_banner(doc, str(record.get("void_reason") or ""), detail)
    number = _Numbering()

    # 一、基本情况
    doc.section(number("基本情况"))
    items = "；".join(f"{i.get('code', '')} {i.get('name', '')}" for i in task.get("items") or [])
    info: list[tuple[str, str]] = [
        ("抽查计划", str(task.get("plan_name") or task.get("plan_code") or "")),
        ("抽查任务", f"{task.get('code', '')} {task.get('name', '')}"),
        ("抽查事项", items or "—"),
        ("抽查类型", str(task.get("draw_type") or "—")),
        ("抽查比例", str(task.get("ratio") or "—")),
        ("行业领域", "、".join(task.get("industries") or []) or "—"),
        ("所属区域", "、".join(task.get("regions") or []) or "—"),
        ("对象条件", "、".join(task.get("conditions") or []) or "—"),
        ("检查期限", f"{task.get('start_date', '')} 至 {task.get('end_date', '')}"),
        ("实施部门", str(task.get("department") or "—")),
        ("联合部门", "、".join(task.get("partners") or []) or "—"),
        (
            "每组人数",
            f"执法检查人员 {params.get('team_size', '—')} 人，专家 {params.get('expert_count', 0)} 人",
        ),
        ("抽取日期", str(task.get("draw_date") or "")),
        *(
            [("期限外抽取原因", str(task["outside_period_reason"]))]
            if task.get("outside_period_reason")
            else []
        ),
        ("抽取地点", str(task.get("place") or "—")),
        ("操作人员", str(task.get("operator") or "—")),
    ]
    for key, title in (
        ("commit", "公告时间"),
        ("reveal", "开奖时间"),
        ("confirm", "确认时间"),
        ("void", "作废时间"),
    ):
        if times.get(key):
            info.append((title, times[key]))
    doc.key_values(info)
    if record.get("supersedes"):
        sup = record["supersedes"]
        doc.note(
            f"本记录为第 {version} 版，取代第 {sup.get('version')} 版"
            f"（第 {sup.get('version')} 版记录摘要 SHA-256：{sup.get('sha256')}）。新版本只因递补等事项产生，"
            "抽取结果本身不变。"
        )

    # 二、抽取前公告
    doc.section(number("抽取前公告（见证人给出数字之前已公布）"))
    hashes: Mapping[str, str] = record.get("hashes") or {}
    doc.key_values(
        [("场次编号", session)]
        + [(title, str(hashes.get(key, ""))) for key, title in HASH_TITLES]
        + [("承诺值 C = H(N)", str(record.get("commitment") or ""))],
        columns=1,
    )

    # 三、见证人与开奖
    doc.section(number("见证人数字与开奖"))
    total = sum(len(str(w.get("digits", ""))) for w in witnesses)
    if witnesses:
        doc.table(
            [Column("序号", 0.5, "center"), Column("见证人", 2.2), Column("给出的数字", 4.0), Column("位数", 0.7, "center")],
            [[str(i), str(w.get("name", "")), str(w.get("digits", "")), str(len(str(w.get("digits", ""))))]
             for i, w in enumerate(witnesses, start=1)],
        )  # fmt: skip
    else:
        doc.paragraph("无见证人数字（场次在见证人给出数字之前作废）。")
    doc.note(f"见证人数字合计 {total} 位（至少需要 {MIN_WITNESS_DIGITS} 位），按录入顺序参与计算随机种子。")
    nonce = record.get("nonce")
    seed = record.get("seed")
    reveal: list[tuple[str, str]] = [
        ("随机数 N", str(nonce) if nonce else "未公开"),
        ("H(N) 与承诺值 C", _nonce_check(nonce, record.get("commitment"))),
        ("随机种子 seed", str(seed) if seed else "未计算（场次在开奖前作废）"),
    ]
    doc.key_values(reveal, columns=1)
    doc.note(
        'seed = H("DSJ-DRAW-1" | 场次编号 | H_targets | H_inspectors | H_experts | H_params | 各见证人数字 | N)，'
        '其中 | 表示分隔字节 0x1F；检查对象票号 T = H(seed | "target" | 统一社会信用代码)，各层取票号最小的若干家。'
    )

    # 四、规则、候选范围与配额
    doc.section(number("抽取规则、候选范围与配额"))
    rules = [str(r) for r in task.get("rules") or []]
    if rules:
        doc.paragraph("\n".join(f"· {r}" for r in rules), style="small")
    strata_sizes: dict[str, int] = {}
    for t in record.get("targets") or []:
        strata_sizes[t.get("stratum") or ""] = strata_sizes.get(t.get("stratum") or "", 0) + 1
    quotas: Mapping[str, int] = params.get("quotas") or {}
    rows = [[stratum_title(s), str(strata_sizes.get(s, 0)), str(k)] for s, k in quotas.items()]
    mandatory = list(record.get("mandatory_targets") or [])
    rows.append(["合计", str(sum(strata_sizes.values())), str(sum(int(k) for k in quotas.values()))])
    doc.table(
        [Column("分层", 3.0), Column("候选数（家）", 1.2, "center"), Column("抽取数（家）", 1.2, "center")],
        rows,
    )
    doc.paragraph(
        f"必查对象（黑名单等，不参加随机抽取）{len(mandatory)} 家；排除 {len(record.get('exclusions') or [])} 家；"
        f"执法检查人员 {len(people.inspectors)} 人，每组 {params.get('team_size', '—')} 人，"
        f"每人最多分配 {params.get('inspector_cap', '—')} 家；"
        + (
            f"专家 {len(people.experts)} 人，每家 {params.get('expert_count')} 人，每人最多 {params.get('expert_cap')} 家；"
            if experts_drawn
            else "不抽取专家；"
        )
        + f"回避关系 {len(params.get('inspector_conflicts') or []) + len(params.get('expert_conflicts') or [])} 对。",
        style="small",
    )

    # 五、排除
    doc.section(number("不参加抽取的检查对象（排除，均与随机数无关）"))
    exclusions = list(record.get("exclusions") or [])
    if exclusions:
        doc.table(
            [Column("序号", 0.5, "center"), Column("名称", 3.0), Column("统一社会信用代码", fit="91350100M000100Y43"),
             Column("排除原因", 3.0)],
            [[str(i), exclusion_names.get(e["id"], ""), e["id"], e.get("reason", "")]
             for i, e in enumerate(exclusions, start=1)],
        )  # fmt: skip
    else:
        doc.paragraph("无。")

    # 六、结果
    doc.section(number("抽取结果（按分配顺序，即票号从小到大）"))
    if selected:
        stratified = set(quotas) != {""} or bool(mandatory)
        cols = [
            Column("序号", 0.45, "center"),
            Column("检查对象 / 统一社会信用代码", 2.6),
            Column("分层", 1.0),
            Column(f"票号（前 {TICKET_SHOWN} 位）", fit="0" * TICKET_SHOWN),
            Column("执法检查人员", 2.6),
        ]
        if not stratified:
            del cols[2]
        if experts_drawn:
            cols.append(Column("专家", 1.6))
        result_rows = []
        for i, x in enumerate(selected, start=1):
            row = [
                str(i),
                f"{people.target(x['id'])}\n{x['id']}",
                "必查" if x.get("mandatory") else stratum_title(x.get("stratum")),
                str(x.get("ticket") or "")[:TICKET_SHOWN],
                _chain_text(team_chains(x, subs, sessions.INSPECTOR), people, sessions.INSPECTOR),
            ]
            if not stratified:
                del row[2]
            if experts_drawn:
                row.append(_chain_text(team_chains(x, subs, sessions.EXPERT), people, sessions.EXPERT) or "—")
            result_rows.append(row)
        doc.table(cols, result_rows, font_size=8.0)
        doc.note(
            "检查组中“甲 → 乙（递补）”表示甲不能参加、由乙递补，详见递补记录。完整票号见附件中的 JSON 记录。"
        )
    else:
        doc.paragraph("无（场次在开奖前作废，没有抽取结果）。")

    # 七、递补
    doc.section(number("递补记录"))
    if subs:
        doc.table(
            [Column("序号", 0.45, "center"), Column("检查对象", 2.0), Column("不能参加的人员及原因", 2.0),
             Column("同时声明不能递补的人员", 1.8), Column("递补人员", 1.5), Column("时间 / 操作人员", fit="2026-01-01 00:00:00")],
            [
                [
                    str(i),
                    people.target(s["target"]),
                    f"{people.person(s['removed'], s.get('kind', sessions.INSPECTOR))}\n原因：{s.get('reason', '')}",
                    "\n".join(f"{people.person(k['id'], s.get('kind', sessions.INSPECTOR))}\n原因：{k.get('reason', '')}"
                              for k in s.get("skipped") or []) or "—",
                    people.person(s["substitute"], s.get("kind", sessions.INSPECTOR)),
                    f"{format_time(s.get('at'))}\n{s.get('operator') or ''}".strip(),
                ]
                for i, s in enumerate(subs, start=1)
            ],
            font_size=8.0,
        )  # fmt: skip
        doc.note(
            "递补人员为该检查对象的执法人员排序中，不在组内、未被换下、无回避且未声明不能参加的第一人（DSJ-DRAW-1 第 6 节）。"
        )
    else:
        doc.paragraph("无。")

    # 八、此前的抽取
    doc.section(number("本任务此前的抽取"))
    previous = list(record.get("previous") or [])
    if previous:
        doc.table(
            [Column("场次编号", 1.4), Column("状态", 0.6, "center"), Column("作废原因", 1.6),
             Column("承诺值 C / 随机数 N", 3.6)],
            [[p.get("session", ""), "作废" if p.get("status") == STATUS_VOIDED else STATUS_TITLES.get(
                str(p.get("status")), str(p.get("status"))), p.get("reason") or "",
              f"C：{p.get('commitment', '')}\nN：{p.get('nonce_revealed') or '未公开'}"]
             for p in previous],
            font_size=8.0,
        )  # fmt: skip
        doc.note("作废的场次永久保留，不能删除；任何人都可以用其公开的随机数核对它原本会抽中的对象。")
    else:
        doc.paragraph("无（这是本任务的第一次抽取）。")
    again = task.get("again") or {}
    if again:
        doc.paragraph(
            f"本次为再次抽取：本任务此前已确认的场次 {'、'.join(again.get('confirmed') or [])}；"
            f"再次抽取的原因：{again.get('reason', '')}"
        )

    # 九、核验
    doc.section(number("核验"))
    fingerprint = ""
    sig = record.get("signature") or {}
    try:
        fingerprint = public_key_fingerprint(bytes.fromhex(str(sig.get("public_key", ""))))
    except (ValueError, RecordError):
        fingerprint = "（记录中的公钥无法读取）"
    doc.qr_code(
        f"DSJ-DRAW-1 {session} v{version or 1} SHA-256:{digest}",
        size_mm=30,
        caption=(
            f"记录摘要（SHA-256，规范 JSON）：\n{digest}\n"
            f"记录签名公钥指纹（Ed25519）：\n{fingerprint}\n"
            f"本 PDF 附有机器可读的抽取记录“{attachment_name(session)}”，并带本局电子签章。"
            "核验：dsj-desktop verify 本文件.pdf；或取出附件，按 DSJ-DRAW-1 第 9 节用任何程序重算。"
        ),
    )

    # 十、签字
    doc.section(number("签字"))
    doc.paragraph("以上抽取过程在见证人和监督人员的现场见证下完成，记录内容与现场一致。", style="small")
    roles = ["操作人员", *(f"见证人 {w.get('name', '')}" for w in witnesses), "监督人"]
    doc.signature_lines(roles)  # as many per row as leave room to sign
    doc.stamp_area()

    # 附录
    doc.page_break()
    doc.section("附录一　候选检查对象名单（参加随机抽取的全部对象，按统一社会信用代码排序）")
    candidate_cols = [Column("序号", 0.6, "center"), Column("统一社会信用代码", fit="91350100M000100Y43"),
                      Column("名称", 3.4), Column("分层", 1.4)]  # fmt: skip
    candidate_rows = [[str(i), t["id"], t.get("name") or "", stratum_title(t.get("stratum"))]
                      for i, t in enumerate(record.get("targets") or [], start=1)]  # fmt: skip
    if set(quotas) == {""}:  # not stratified: no column of "全部"
        doc.table(candidate_cols[:3], (r[:3] for r in candidate_rows), font_size=8.0)
    else:
        doc.table(candidate_cols, candidate_rows, font_size=8.0)
    if mandatory:
        doc.section("附录二　必查对象（不参加随机抽取）")
        doc.table(
            [Column("序号", 0.6, "center"), Column("统一社会信用代码", fit="91350100M000100Y43"), Column("名称", 3.0),
             Column("必查原因", 2.0)],
            [[str(i), m["id"], m.get("name") or "", m.get("reason") or ""] for i, m in enumerate(mandatory, start=1)],
            font_size=8.0,
        )  # fmt: skip
    doc.section(f"附录{'三' if mandatory else '二'}　执法检查人员名单（按执法证号排序）")
    doc.table(
        [Column("序号", 0.6, "center"), Column("执法证号", 1.6), Column("姓名", 1.2), Column("所属单位", 3.0)],
        [[str(i), p["id"], p.get("name") or "", p.get("unit") or ""]
         for i, p in enumerate(record.get("inspectors") or [], start=1)],
        font_size=8.0,
    )  # fmt: skip
    n = 4 if mandatory else 3
    if record.get("experts"):
        doc.section(f"附录{_CN_NUMBERS[n - 1]}　专家名单（按编号排序）")
        doc.table(
            [Column("序号", 0.6, "center"), Column("编号", 1.6), Column("姓名", 3.0)],
            [[str(i), p["id"], p.get("name") or ""] for i, p in enumerate(record.get("experts") or [], start=1)],
            font_size=8.0,
        )  # fmt: skip
        n += 1
    doc.section(f"附录{_CN_NUMBERS[n - 1]}　抽取参数（规范 JSON，即 H_params 的原文）")
    note_size = float(doc.styles["note"].fontSize)
    doc.paragraph(_wrapped(doc, canonical_json(dict(params)), note_size, doc.frame_width - 6), style="note")
    doc.note(
        "检查对象名单摘要按“统一社会信用代码 0x1F 分层 换行”逐行拼接后计算，执法人员和专家名单摘要按“编号 换行”"
        "逐行拼接后计算，均按编号的 UTF-8 字节升序排列。"
    )
    return doc


def record_pdf(
    record: Mapping[str, Any],
    keys: KeyStore,
    bureau_name: str,
    *,
    times: Mapping[str, str] | None = None,
    exclusion_names: Mapping[str, str] | None = None,
) -> SignedPdf:
    """The signed record PDF with the JSON record attached (``<session>.json``)."""
    doc = build_record_document(record, times=times, exclusion_names=exclusion_names)
    data = doc.build()
    session = str(record["session"])
    task: Mapping[str, Any] = record.get("task") or {}
    return sign_pdf(
        data,
        keys,
        bureau_name,
        attachments=[
            Attachment(
                attachment_name(session),
                record_json_bytes(record),
                description=f"DSJ-DRAW-1 抽取记录 {session}（机器可读，带 Ed25519 签名）",
            )
        ],
        stamp=doc.stamp_placement,
        reason="随机抽取记录",
        location=str(task.get("place") or "") or None,
    )


def session_times(db: Database, session_id: str) -> dict[str, str]:
    with db.read() as conn:
        return event_times(sessions.events(conn, session_id))


def session_record_pdf(db: Database, s: sessions.Session) -> SignedPdf:
    """The signed record PDF of a session's current record version."""
    if s.record is None:
        raise UserError(f"场次 {s.id} 还没有抽取记录（未公告即作废，或尚未确认）。")
    bureau = settings.bureau_name(db) or str(s.task.get("bureau") or "")
    return record_pdf(
        s.record,
        KeyStore(db.data_dir),
        bureau,
        times=session_times(db, s.id),
        exclusion_names=s.inputs.get("exclusion_names") or {},
    )


# ---------------------------------------------------------------------------------------------
# The pre-draw notice


def build_notice_document(
    s: sessions.Session, *, bureau: str = "", fingerprint: str = "", announced: str = ""
) -> PdfDocument:
    """The one-page 抽取前公告: what is fixed before any witness speaks (section 3.1)."""
    if not s.commitment:
        raise UserError(f"场次 {s.id} 尚未生成承诺值，不能打印抽取前公告。")
    task = s.task
    inp = s.inputs
    doc = PdfDocument(NOTICE_TITLE, bureau=bureau or str(task.get("bureau") or ""), doc_id=s.id)
    doc.heading(
        subtitle=f"{task.get('code', '')}　{task.get('name', '')}",
        lines=[f"场次编号：{s.id}　　抽取日期：{s.draw_date.isoformat()}"],
    )
    params = inp.get("params") or {}
    quotas: Mapping[str, int] = params.get("quotas") or {}
    strata = inp.get("strata") or {}
    doc.key_values(
        [
            ("公告时间", announced or "—"),
            ("抽取地点", s.place or "—"),
            ("操作人员", s.operator or "—"),
            ("候选检查对象", f"{len(inp.get('targets') or [])} 家，分 {len(quotas)} 层"),
            ("本次随机抽取", f"{sum(int(k) for k in quotas.values())} 家"),
            ("必查对象", f"{len(params.get('mandatory') or [])} 家（不参加随机抽取）"),
            ("排除对象", f"{len(inp.get('exclusions') or [])} 家"),
            (
                "执法检查人员",
                f"{len(inp.get('inspectors') or [])} 人，每组 {params.get('team_size', '—')} 人",
            ),
            ("专家", f"{len(inp.get('experts') or [])} 人，每家 {params.get('expert_count', 0)} 人"),
        ]
    )
    if len(quotas) > 1:
        doc.paragraph(
            "各层候选数 / 抽取数："
            + "；".join(f"{stratum_title(k)} {strata.get(k, 0)}/{v}" for k, v in quotas.items()),
            style="small",
        )
    doc.section("抽取前固定的输入摘要与承诺值")
    doc.key_values(
        [(title, s.hashes.get(key, "")) for key, title in HASH_TITLES] + [("承诺值 C = H(N)", s.commitment)],
        columns=1,
    )
    doc.paragraph(f"承诺值 C（四位一组，便于朗读核对）：\n{group_hex(s.commitment)}", style="subtitle")
    doc.paragraph(
        "说明：程序已用操作系统的安全随机源生成一个随机数 N，但暂不公开，只公布它的 SHA-256 摘要 C。"
        f"接下来由见证人当场给出数字（合计至少 {MIN_WITNESS_DIGITS} 位）；数字录入完毕后才公开 N，"
        "任何人都可以核对 H(N) = C，证明 N 在见证人给出数字之前已经确定、没有被更换。"
        "随机种子由上述四个摘要、见证人数字和 N 共同算出，抽取结果由种子唯一确定。",
        style="small",
    )
    doc.qr_code(
        f"DSJ-DRAW-1 {s.id} C:{s.commitment}",
        size_mm=26,
        caption=(
            f"场次编号：{s.id}\n承诺值 C：{s.commitment}"
            + (f"\n记录签名公钥指纹（Ed25519）：{fingerprint}" if fingerprint else "")
        ),
    )
    doc.signature_lines(["操作人员", "监督人"], per_row=2)
    return doc


def notice_pdf(db: Database, s: sessions.Session) -> bytes:
    """The notice as PDF bytes (unsigned: it is posted and read aloud before the draw)."""
    bureau = settings.bureau_name(db) or str(s.task.get("bureau") or "")
    fingerprint = KeyStore(db.data_dir).record_fingerprint()
    announced = session_times(db, s.id).get("commit", "")
    return build_notice_document(s, bureau=bureau, fingerprint=fingerprint, announced=announced).build()


def write_notice_pdf(db: Database, s: sessions.Session, path: Path) -> Path:
    atomic_write_bytes(Path(path), notice_pdf(db, s))
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Files in the data folder


def records_dir(db: Database) -> Path:
    """Where the program keeps the PDFs it made (records and notices), inside the data folder:
    the folder the draw's readiness check tests before anything is announced."""
    return draw_ready.records_folder(db)


def notice_pdf_path(db: Database, s: sessions.Session) -> Path:
    return records_dir(db) / f"{s.id}-抽取前公告.pdf"
