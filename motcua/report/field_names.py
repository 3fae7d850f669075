"""Plain names of a scenario's fields, for the report's readers: ``adoption.potential_share`` → "Tỷ lệ tối đa người
dân sẵn sàng thanh toán trực tuyến".

*Scenario.* The provincial committee reads which assumptions the forecast rests on; it does not read code paths.
`field_name` names any field path of a scenario (or a sensitivity group such as ``region.units[*].population``)
in the report's language: a unit's field says which unit ("Dân số — Huyện Cao Lộc"), an intervention says its
name ("Giải pháp «Tổ công nghệ số cộng đồng»"). Vietnamese names come from `VI_NAMES` (by the field's path, else
its last key); English ones, and any field `VI_NAMES` lacks, from the field's own declaration in
`motcua.scenario` (``spec(doc)``), so a new field is never shown as a code path.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, get_args, get_origin

from motcua.typed_config import spec_of, split_path

VI_NAMES: dict[str, str] = {
    # [adoption]: the Generalized Bass model
    "adoption": "Các tham số của mô hình áp dụng",
    "adoption.p_per_year": "Hệ số đổi mới p (người tự chuyển sang trực tuyến, mỗi năm)",
    "adoption.q_per_year": "Hệ số bắt chước q (người làm theo người xung quanh, mỗi năm)",
    "adoption.effort_weight": "Trọng số của nỗ lực tuyên truyền",
    "adoption.potential_share": "Tỷ lệ tối đa người dân sẵn sàng thanh toán trực tuyến",
    "adoption.lapse_after_bad_experience": "Xác suất bỏ thanh toán trực tuyến sau một lần lỗi",
    "adoption.return_after_lapse_per_year": "Tốc độ quay lại thanh toán trực tuyến sau khi bỏ (mỗi năm)",
    "adoption.habit_after_uses": "Số lần thanh toán thành công để thành thói quen",
    "adoption.behaviour": "Hành vi của người dân trước các rào cản và giải pháp",
    # [adoption.behaviour]: the agent model
    "agents_per_unit": "Số tác tử mô phỏng mỗi đơn vị",
    "initial_awareness": "Tỷ lệ người dân biết có thể nộp phí trực tuyến lúc đầu",
    "initial_habitual_share": "Tỷ lệ người đã quen thanh toán trực tuyến lúc đầu",
    "awareness_per_year": "Tốc độ biết đến nhờ tuyên truyền (mỗi năm)",
    "awareness_imitation_per_year": "Tốc độ biết đến qua người quen (mỗi năm)",
    "reach_rural": "Mức tuyên truyền đến được người dân nông thôn",
    "reach_minority": "Mức tuyên truyền đến được người dân tộc thiểu số",
    "device_per_year": "Tốc độ người dân tự có điện thoại thông minh hoặc kết nối (mỗi năm)",
    "help_point_per_year": "Khoảng trống thiết bị được điểm hỗ trợ bưu điện lấp (mỗi năm)",
    "team_per_year": "Khoảng trống được tổ công nghệ số cộng đồng lấp (mỗi năm)",
    "vneid_per_year": "Tốc độ cấp VNeID mức 2 thông thường (mỗi năm)",
    "vneid_drive_per_year": "Khoảng trống VNeID được đợt cao điểm cấp tài khoản lấp (mỗi năm)",
    "vneid_required_from": "Ngày bắt đầu bắt buộc VNeID mức 2 khi thanh toán trực tuyến",
    "unaware_factor": "Mức giảm khả năng áp dụng khi chưa biết đến dịch vụ",
    "needs_device_factor": "Mức giảm khả năng áp dụng khi thiếu điện thoại hoặc kết nối",
    "needs_identity_factor": "Mức giảm khả năng áp dụng khi chưa có VNeID mức 2",
    "unskilled_factor": "Mức giảm khả năng áp dụng khi thiếu kỹ năng số",
    "cash_factor": "Mức giảm khả năng áp dụng khi quen dùng tiền mặt",
    "small_fee_factor": "Mức giảm khả năng áp dụng khi phí nhỏ",
    "skill_lift": "Hiệu quả của tổ cộng đồng và điểm hỗ trợ với rào cản kỹ năng",
    "qr_lift": "Hiệu quả của thanh toán QR tại quầy với thói quen tiền mặt",
    "fee_reduction_lift": "Hiệu quả của giảm phí trực tuyến với rào cản phí nhỏ",
    "tried_cash_online": "Xác suất người quen tiền mặt đã thử vẫn trả trực tuyến",
    "tried_small_fee_online": "Xác suất người ngại phí nhỏ đã thử vẫn trả trực tuyến",
    "qr_counter_uptake": "Tỷ lệ người trả bằng QR khi quầy có mã QR",
    "fully_online_dossier_share": "Tỷ lệ hồ sơ thuộc dịch vụ công trực tuyến toàn trình",
    "habitual_lapse_factor": "Mức giảm khả năng bỏ cuộc của người đã thành thói quen",
    # [citizens]
    "citizens": "Đặc điểm người dân",
    "smartphone": "Tỷ lệ người có điện thoại thông minh",
    "vneid_level2": "Tỷ lệ người có tài khoản VNeID mức 2",
    "rural": "Tỷ lệ người sống ở nông thôn",
    "ethnic_minority": "Tỷ lệ người dân tộc thiểu số",
    "good_connectivity": "Tỷ lệ người có kết nối Internet ổn định",
    "digital_skill": "Tỷ lệ người tự làm được thủ tục và thanh toán trực tuyến",
    "cash_preference": "Tỷ lệ người thích nộp tiền mặt tại quầy",
    "small_fee_sensitivity": "Tỷ lệ người ngại thanh toán trực tuyến khoản phí nhỏ",
    "sim_in_own_name": "Tỷ lệ người có SIM đứng tên chính chủ",
    "data_leak_fear": "Tỷ lệ người lo lộ thông tin cá nhân",
    # [region] and its units
    "population": "Dân số",
    "fee_dossiers_per_year": "Số hồ sơ có thu phí mỗi năm",
    "communes": "Số xã, phường",
    "counters": "Bộ phận một cửa (số quầy, cán bộ, giờ mở cửa)",
    "officers": "Số cán bộ trực quầy",
    "help_seekers_per_day": "Số người đến chỉ để được hướng dẫn mỗi ngày",
    "patience_minutes": "Thời gian chờ tối đa người dân chấp nhận (phút)",
    "balk_queue_length": "Độ dài hàng chờ khiến người dân bỏ về",
    "service_minutes": "Thời gian xử lý một hồ sơ tại quầy (phút)",
    "observed_share": "Tỷ lệ thanh toán trực tuyến quan sát được",
    "observed_from": "Đầu kỳ quan sát",
    "observed_to": "Cuối kỳ quan sát",
    "initial_share": "Tỷ lệ thanh toán trực tuyến ngày đầu mô phỏng",
    # [payment_system], [load], [slo], [simulation]
    "payment_system": "Chất lượng hệ thống thanh toán, nhóm thanh toán và ngân hàng",
    "failure_rate": "Tỷ lệ giao dịch thanh toán lỗi",
    "callback_delay_s": "Độ trễ báo kết quả thanh toán về hệ thống một cửa",
    "payment_system.callback_delay_s.p50": "Độ trễ báo kết quả thanh toán, trung vị (p50, giây)",
    "payment_system.callback_delay_s.p95": "Độ trễ báo kết quả thanh toán, 95% giao dịch (p95, giây)",
    "slo.callback_p95_ms": "Giới hạn SLO: thời gian xác nhận thanh toán (p95, ms)",
    "slo.create_p99_ms": "Giới hạn SLO: thời gian tạo hồ sơ và thanh toán (p99, ms)",
    "slo.error_rate": "Giới hạn SLO: tỷ lệ yêu cầu lỗi",
    "slo.dropped_arrivals": "Giới hạn SLO: tỷ lệ lượt truy cập không gửi kịp",
    "slo.lost_callbacks": "Giới hạn SLO: số thông báo thanh toán bị mất",
    "unpaid_notice_after_s": "Thời gian sau đó người đã trả thấy hồ sơ «chưa nộp phí»",
    "banks": "Các ngân hàng và ví điện tử",
    "groups": "Cơ cấu nhóm thanh toán",
    "load": "Thiết lập kiểm thử tải",
    "slo": "Mục tiêu chất lượng dịch vụ (SLO)",
    "simulation": "Thiết lập mô phỏng (ngày bắt đầu, số ngày, số lần lặp, hạt giống)",
    "targets": "Mục tiêu",
    "interventions": "Giải pháp",
    "intensity": "Cường độ",
    "capacity_per_day": "Số người hỗ trợ được mỗi ngày",
    "cost_vnd": "Chi phí (VND)",
    "guidance_minutes": "Số phút cán bộ hướng dẫn một người",
    "fee_reduction_share": "Tỷ lệ giảm phí khi nộp trực tuyến",
}
"""Vietnamese names by field path (``adoption.potential_share``) or, for fields named alike everywhere, by the last
key (``population``)."""

EN_NAMES: dict[str, str] = {
    "adoption.potential_share": "Ceiling share of citizens ready to pay online",
    "adoption.p_per_year": "Innovation coefficient p (per year)",
    "adoption.q_per_year": "Imitation coefficient q (per year)",
    "adoption.effort_weight": "Weight of outreach effort",
    "interventions": "Intervention",
    "targets": "Target",
}

_UNIT = re.compile(r"^region\.units\[([^\]]+)\]\.?(.*)$")
_ITEM = re.compile(r"^(interventions|targets)\[(\d+)\]\.?(.*)$")


def field_name(path: str, lang: str, scenario: Any = None) -> str:
    """The plain name of field `path` (or sensitivity group) in `lang`; unit and intervention names from `scenario`."""
    path = path.strip().strip('"')
    unit = _UNIT.match(path)
    if unit:
        which, rest = unit.groups()
        name = _plain(f"region.units.{rest}" if rest else "region.units", lang)
        if which == "*":
            return name + (" — mọi đơn vị" if lang == "vi" else " — every unit")
        return f"{name} — {_unit_name(scenario, which, lang)}"
    item = _ITEM.match(path)
    if item:
        table, index, rest = item.groups()
        label = _item_name(scenario, table, int(index), lang)
        return f"{label}: {_plain(f'{table}.{rest}', lang)}" if rest else label
    return _plain(path, lang)


def _plain(path: str, lang: str) -> str:
    last = path.rsplit(".", 1)[-1]
    table = EN_NAMES if lang == "en" else VI_NAMES
    found = table.get(path) or table.get(last)
    if found:
        return found
    doc = declared_doc(path) or last.replace("_", " ")
    section = path.split(".", 1)[0]
    if lang == "vi" and section != path and section in VI_NAMES:  # in Vietnamese, at least the section's name
        return f"{VI_NAMES[section]}: {doc}"
    return doc


def _unit_name(scenario: Any, unit_id: str, lang: str) -> str:
    for unit in getattr(scenario, "units", ()):
        if unit.id == unit_id:
            return (unit.name_en or unit.name) if lang == "en" else unit.name
    return unit_id


def _item_name(scenario: Any, table: str, index: int, lang: str) -> str:
    items = getattr(scenario, table, ()) if scenario is not None else ()
    word = {"interventions": ("Giải pháp", "Intervention"), "targets": ("Mục tiêu", "Target")}[table][lang != "vi"]
    if index < len(items):
        item = items[index]
        name = (getattr(item, "name_en", "") or item.name) if lang == "en" else item.name
        if name:
            return f"{word} «{name}»" if lang == "vi" else f"{word} “{name}”"
        if table == "targets":
            return f"{word} {item.share:.0%}"
    return f"{word} {index + 1}"


def declared_doc(path: str) -> str:
    """The doc of the field at `path` as `motcua.scenario` declares it (``spec(doc)``), capitalised; '' if none."""
    found = declared_spec(path)
    doc = found.doc if found is not None else ""
    return doc[:1].upper() + doc[1:] if doc else ""


def _item_type(tp: Any) -> Any:
    """The dataclass inside ``X | None``, ``tuple[X, ...]`` or ``dict[str, X]``."""
    while True:
        origin = get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            tp = next(a for a in get_args(tp) if a is not type(None))
        elif origin is tuple:
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        else:
            return tp


def declared_spec(path: str) -> Any:
    """The `motcua.typed_config.Spec` of the field at `path` in `motcua.scenario`, or None."""
    from motcua.scenario import Scenario

    tp: Any = Scenario
    found = None
    try:
        tokens = split_path(path)
    except ValueError:
        return None
    for token in tokens:
        tp = _item_type(tp)
        if not isinstance(token, str) or token.startswith("["):
            continue
        if not dataclasses.is_dataclass(tp):
            return None
        fields = {f.name: f for f in dataclasses.fields(tp)}
        if token not in fields:
            return None
        found = spec_of(fields[token])
        tp = typing.get_type_hints(tp)[token]
    return found
