"""The scenario schema's problems in Vietnamese: a translation table, not a second copy of the rules.

The rules live in `motcua.scenario` (and `motcua.typed_config`); a broken rule raises a `ConfigError` whose
``problem`` is an English sentence. The studio shows that sentence beside the field, in Vietnamese by default:
each entry of `PROBLEMS` is a regular expression over the English text and the Vietnamese sentence it becomes
(the groups carry the numbers and names across). A problem no entry matches is shown in English, so a new rule is
never hidden; `tests/test_studio_forms.py` pins the translations of the problems a planner meets.
"""

from __future__ import annotations

import re

MONTHS = {name: number for number, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
     "December"), start=1)}

PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"impossible date: (?P<month>\w+) (?P<year>\d{4}) has (?P<last>\d+) days, not (?P<day>\d+)",
     "ngày không có thật: tháng {month}/{year} có {last} ngày, không có ngày {day}"),
    (r"impossible date: there is no month (?P<month>\d+)", "ngày không có thật: không có tháng {month}"),
    (r"expected a date.*", "cần một ngày viết dạng năm-tháng-ngày, ví dụ 2024-12-31"),
    (r"ends before (?P<other>\w+) (?P<date>[\d-]+)", "kết thúc trước ngày bắt đầu ({date})"),
    (r"not after simulation\.start (?P<date>[\d-]+)", "phải sau ngày bắt đầu mô phỏng ({date})"),
    (r"after the simulation ends \((?P<end>[\d-]+)\); raise simulation\.horizon_days to at least (?P<days>\d+)",
     "sau ngày kết thúc mô phỏng ({end}); tăng số ngày mô phỏng lên ít nhất {days}"),
    (r"outside the simulated period (?P<start>[\d-]+) – (?P<end>[\d-]+)",
     "nằm ngoài thời gian mô phỏng ({start} – {end})"),
    (r"a share must be within 0–1.*", "tỷ lệ phải nằm trong khoảng 0–100%"),
    (r"must be >= (?P<n>[\d.e+-]+)", "phải lớn hơn hoặc bằng {n}"),
    (r"must be > (?P<n>[\d.e+-]+)", "phải lớn hơn {n}"),
    (r"must be <= (?P<n>[\d.e+-]+)", "phải nhỏ hơn hoặc bằng {n}"),
    (r"expected a whole number.*|must be a whole number of VND.*", "cần một số nguyên (ví dụ 200000)"),
    (r"must not be negative", "không được âm"),
    (r"is implausibly large.*", "lớn bất thường; kiểm tra lại số tiền"),
    (r"expected a (finite )?number.*", "cần một số"),
    (r"expected a string.*", "cần một đoạn chữ"),
    (r"does not match .*", "sai dạng: chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ 'lang-son-2024'"),
    (r"must be one of (?P<choices>[^;]*)(; did you mean '(?P<close>[^']*)'\?)?", "phải là một trong: {choices}"),
    (r"no such unit; units: (?P<units>.*)", "không có đơn vị này; các đơn vị: {units}"),
    (r"name at least one unit id.*", "chọn ít nhất một đơn vị (hoặc tất cả)"),
    (r"counter_guidance needs guidance_minutes.*",
     "giải pháp «hướng dẫn tại quầy» cần số phút cán bộ hướng dẫn mỗi người"),
    (r"online_fee_reduction needs fee_reduction_share", "giải pháp «giảm phí trực tuyến» cần tỷ lệ phí được giảm"),
    (r"an observed_share needs observed_share_source.*",
     "tỷ lệ quan sát cần ghi nguồn (một trong các nguồn của kịch bản)"),
    (r"cites source '(?P<source>[^']*)', which is not in scenario\.sources.*",
     "trích nguồn «{source}» không có trong danh sách nguồn của kịch bản"),
    (r"duplicate; each must be unique", "bị trùng; mỗi giá trị phải khác nhau"),
    (r"(?P<what>.*) must sum to 1, but they sum to (?P<total>\S+); adjust the shares",
     "các tỷ lệ phải cộng lại bằng 1 (hiện là {total})"),
    (r"required: .*", "bắt buộc phải có"),
    (r"unknown key.*", "khoá không có trong lược đồ kịch bản"),
    (r"at least one unit is needed", "cần ít nhất một đơn vị"),
    (r"scenario file not found.*", "không tìm thấy tệp kịch bản"),
    (r"not a unit of the scenario; use one of (?P<units>.*) or '\*' \(region\)",
     "không phải đơn vị của kịch bản; dùng một trong: {units} hoặc '*' (toàn vùng)"),
    (r"before period_start (?P<date>[\d-]+)", "trước ngày đầu kỳ period_start ({date})"),
    (r"expected a number within 0–1", "cần một số trong khoảng 0–1 (ví dụ 0.25 là 25%)"),
    (r"not a kind of observation; use one of (?P<kinds>.*)", "không phải loại quan sát; dùng một trong: {kinds}"),
    (r"missing column\(s\) (?P<columns>[^;]*);.*", "thiếu cột {columns}; dòng tiêu đề phải có "
                                                    "unit,period_start,period_end,share"),
    (r"observation on line (?P<line>\d+) starts (?P<start>[\d-]+), before the calibration origin (?P<origin>[\d-]+);.*",
     "quan sát ở dòng {line} bắt đầu từ {start}, trước ngày bắt đầu mô phỏng {origin}: hiệu chỉnh từ dòng lệnh với "
     "--origin {start}, hoặc dùng số liệu từ {origin} trở đi"),
    (r"no observations;.*", "không có quan sát nào; thêm các dòng unit,period_start,period_end,share"),
    (r"observations file of (?P<size>\d+) bytes: at most (?P<most>\d+) bytes",
     "tệp quan sát quá lớn ({size} byte); tối đa {most} byte"),
    (r"observations file: not UTF-8 text \(byte (?P<at>\d+)\)",
     "tệp quan sát không phải văn bản UTF-8 (lỗi ở byte {at}); lưu lại dạng CSV UTF-8"),
)
"""(English problem as a regular expression, its Vietnamese sentence), first match wins."""

_COMPILED = tuple((re.compile(pattern), vietnamese) for pattern, vietnamese in PROBLEMS)


def translate(problem: str, lang: str) -> str:
    """`problem` (a `ConfigError`'s English text) in `lang`: Vietnamese by `PROBLEMS`, else as it is."""
    if lang != "vi":
        return problem
    for pattern, vietnamese in _COMPILED:
        match = pattern.fullmatch(problem.strip())
        if match:
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            if "month" in groups and groups["month"] in MONTHS:
                groups["month"] = str(MONTHS[groups["month"]])
            return vietnamese.format_map(_Blank(groups))
    return problem


class _Blank(dict[str, str]):
    """Format values; a group the English text did not have becomes empty rather than an error."""

    def __missing__(self, key: str) -> str:
        return ""


_OBSERVATION_LINE = re.compile(r"(?:.+?: )?line (?P<line>\d+), (?P<column>\w+) = (?P<value>.*?): (?P<problem>.+)")


def observation_problem(message: str, lang: str) -> str:
    """An observations file's error (`motcua.models.calibration.read_observed`) in `lang`, without the file's
    temporary path: "dòng 3, cột share, giá trị '1.4': tỷ lệ phải nằm trong khoảng 0–100%"."""
    found = _OBSERVATION_LINE.fullmatch(message.strip())
    if found:
        problem = translate(found["problem"], lang)
        if lang == "vi":
            return f"dòng {found['line']}, cột {found['column']}, giá trị {found['value']}: {problem}"
        return f"line {found['line']}, column {found['column']}, value {found['value']}: {problem}"
    rest = re.sub(r"^[^:]*\.upload: ", "", message.strip())
    return translate(rest, lang)
