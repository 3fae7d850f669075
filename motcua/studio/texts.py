"""The studio's own words, in Vietnamese (default) and English; what the report already says comes from the report.

Headings, buttons and form labels that only the studio shows are keys of `TEXTS`; `t(lang)` gives a function
that looks a key up here first and then in the report's texts (`motcua.report.i18n.TEXTS`), so a column the
pages and ``report.html`` share ("Đơn vị", "Chi phí (VND)", "Xác suất đạt mục tiêu trước hạn") has one wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from motcua.report.i18n import TEXTS as REPORT_TEXTS
from motcua.report.i18n import check_lang

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "app": "motcua studio", "lang": "vi",
        "nav_scenarios": "Kịch bản", "nav_compare": "So sánh", "nav_runs": "Các lần chạy",
        "lang_switch": "English",
        "scenarios_title": "Kịch bản",
        "own": "Kịch bản của tôi (thư mục {folder})", "bundled": "Kịch bản có sẵn (chỉ đọc)",
        "none_yet": "Chưa có kịch bản nào. Tạo một bản từ kịch bản có sẵn bên dưới.",
        "new_from": "Tạo bản mới từ kịch bản này", "new_name": "Tên bản mới",
        "edit": "Sửa", "run": "Chạy mô phỏng", "broken": "Tệp lỗi: {problem}",
        "editor_title": "Sửa kịch bản {name}",
        "g_general": "Chung", "g_units": "Các đơn vị: dân số, hồ sơ, tỷ lệ quan sát ban đầu, quầy",
        "g_interventions": "Giải pháp",
        "g_targets": "Mục tiêu và hạn", "g_advanced": "Nâng cao: giả định về hành vi người dân",
        "advanced_note": "Mỗi giả định có nhãn «quan sát» hoặc «giả định» và nguồn, theo bảng [provenance] của tệp.",
        "f_title": "Tiêu đề", "f_start": "Ngày bắt đầu mô phỏng", "f_horizon_days": "Số ngày mô phỏng",
        "f_replications": "Số lần lặp", "f_seed": "Hạt giống ngẫu nhiên",
        "f_observed_share": "Tỷ lệ quan sát (%)", "f_observed_share_source": "Nguồn",
        "f_observed_from": "Quan sát từ", "f_observed_to": "đến",
        "f_kind": "Loại", "f_name": "Tên", "f_units": "Đơn vị áp dụng", "f_start_i": "Từ ngày",
        "f_end": "Đến ngày", "f_intensity": "Cường độ", "f_capacity_per_day": "Người/ngày/đơn vị",
        "f_cost_vnd": "Chi phí (VND)", "f_guidance_minutes": "Phút hướng dẫn/người",
        "f_fee_reduction_share": "Giảm phí (%)", "f_delete": "Xoá giải pháp này",
        "f_share": "Tỷ lệ mục tiêu (%)", "f_date": "Hạn", "all_units_choice": "Tất cả",
        "add_intervention": "Thêm giải pháp", "validate": "Kiểm tra", "save": "Lưu",
        "saved": "Đã lưu {file}. Tệp vẫn là một kịch bản TOML bình thường (motcua scenario check chấp nhận).",
        "valid": "Kịch bản hợp lệ.", "invalid": "Kịch bản chưa hợp lệ: xem lỗi tại trường được đánh dấu.",
        "warning": "Lưu ý", "errors_elsewhere": "Lỗi ở phần không có trên biểu mẫu: {field} = {value}: {problem}",
        "warn_outside": "Giải pháp «{name}» ({start} – {end}) có ngày nằm ngoài thời gian mô phỏng "
                        "({sim_start} – {sim_end}); phần đó không được mô phỏng.",
        "read_only": "Kịch bản có sẵn chỉ để đọc: hãy tạo bản mới để sửa.",
        "k_qr_at_counter": "Thanh toán QR tại quầy", "k_counter_guidance": "Cán bộ một cửa hướng dẫn",
        "k_community_digital_team": "Tổ công nghệ số cộng đồng", "k_post_office_help": "Điểm hỗ trợ tại bưu điện",
        "k_online_fee_reduction": "Giảm phí khi nộp trực tuyến",
        "k_refuse_in_person_filing": "Không nhận hồ sơ trực tiếp", "k_vneid_drive": "Đợt cấp VNeID mức 2",
        "k_information_campaign": "Tuyên truyền, vận động",
        "badge_observed": "quan sát", "badge_assumed": "giả định", "badge_derived": "suy ra",
        "badge_setting": "thiết lập", "badge_unmarked": "chưa ghi nguồn",
        "run_title": "Chạy", "simulate": "Mô phỏng", "compare_title": "So sánh các kịch bản",
        "compare_pick": "Chọn 2–5 kịch bản và một kịch bản gốc để so sánh (mặc định: kịch bản đầu tiên được chọn)",
        "compare_run": "Chạy so sánh", "compare_col": "So sánh", "baseline_col": "Gốc",
        "quick": "Chạy nhanh (tầm nhìn ngắn, để thử)", "replications": "Số lần lặp", "seed": "Hạt giống",
        "same_run": "Đã có lần chạy với cùng dữ liệu, hạt giống và phiên bản: {run}. Xem kết quả đó, "
                    "hoặc chạy lại.",
        "open_existing": "Xem kết quả đã có", "run_again": "Vẫn chạy lại",
        "jobs": "Đang chạy và chờ", "job": "Công việc {id}", "state_queued": "đang chờ",
        "state_running": "đang chạy", "state_done": "xong", "state_failed": "lỗi", "state_cancelled": "đã huỷ",
        "state_interrupted": "bị dừng khi tắt studio",
        "cancel": "Huỷ", "eta": "còn khoảng {eta}", "progress": "{done}/{total} lần lặp",
        "job_failed": "Lần chạy bị lỗi: {why}", "see_results": "Xem kết quả",
        "runs_title": "Tất cả các lần chạy", "r_started": "Bắt đầu", "r_kind": "Loại", "r_scenario": "Kịch bản",
        "r_verdict": "Kết luận", "r_report": "Báo cáo", "r_readonly": "chỉ đọc",
        "kind_simulate": "mô phỏng", "kind_compare": "so sánh", "kind_run": "chạy đầy đủ",
        "kind_loadtest": "kiểm thử tải", "kind_calibrate": "hiệu chỉnh", "kind_sensitivity": "độ nhạy",
        "no_runs": "Chưa có lần chạy nào trong {folder}.",
        "answer": "Câu trả lời", "cost_total": "Tổng chi phí các giải pháp: {cost} VND.",
        "charts": "Biểu đồ", "ch_trajectories": "Tỷ lệ thanh toán trực tuyến theo tuần, theo đơn vị",
        "ch_waits": "Thời gian chờ tại quầy (phút)", "ch_hours": "Giờ cán bộ mỗi ngày mở cửa",
        "ch_costs": "Chi phí theo giải pháp (VND)", "ch_compare": "Tỷ lệ toàn bộ các đơn vị theo kịch bản",
        "ch_diffs": "Chênh lệch tỷ lệ cuối kỳ so với gốc (điểm %, KTC 95%)",
        "export": "Xuất", "png": "PNG 300 dpi", "svg": "SVG", "xlsx": "Bảng (Excel .xlsx)",
        "csv": "Bảng (CSV, UTF-8)", "open_report": "Mở báo cáo",
        "differences": "Chênh lệch theo cặp (cùng dãy số ngẫu nhiên, KTC 95%)",
        "d_measure": "Chỉ số", "d_final_share": "Tỷ lệ cuối kỳ (điểm %)",
        "d_probability": "Xác suất đạt mục tiêu «{target}» (điểm %)", "d_busy_hours": "Giờ cán bộ bận (giờ)",
        "d_freed": "Giờ được giải phóng mỗi ngày mở cửa", "d_cost": "Chi phí thêm (VND)",
        "d_cost_per_point": "Chi phí mỗi điểm % tăng thêm (VND)", "d_date": "Ngày đạt mục tiêu (ngày)",
        "better": "«{b}» tốt hơn «{a}»: tỷ lệ cuối kỳ cao hơn {pts} điểm % (KTC 95% {low} đến {high}); "
                  "chắc chắn ở mức 95% (xác suất ≈ {p}).",
        "worse": "«{b}» kém hơn «{a}»: tỷ lệ cuối kỳ thấp hơn {pts} điểm % (KTC 95% {low} đến {high}); "
                 "chắc chắn ở mức 95% (xác suất «{a}» tốt hơn ≈ {p}).",
        "unsure": "Chưa phân biệt được «{b}» và «{a}»: chênh lệch {pts} điểm % (KTC 95% {low} đến {high}) "
                  "chứa 0; xác suất «{b}» tốt hơn ≈ {p}. Tăng số lần lặp để chắc hơn.",
        "scenario_col": "Kịch bản", "baseline": "gốc",
        "error_page": "Có lỗi", "back": "Quay lại",
        "forbidden": "Không được phép: thiếu hoặc sai mã truy cập / mã chống giả mạo biểu mẫu.",
        "too_large": "Yêu cầu quá lớn.",
        "calibrate": "Hiệu chỉnh theo số liệu", "sensitivity": "Phân tích độ nhạy",
        "quick_study": "nhanh (để thử)",
        "progress_batch": "lô {batch}: {done}/{total} lần chạy",
        "cal_fitted": "Tham số ước lượng: {parameters}.",
        "cal_rmse": "Sai lệch trung bình của mô hình so với {n} quan sát (RMSE): {rmse} điểm %.",
        "sens_top": "Câu trả lời phụ thuộc nhiều nhất vào: {names} (trong {groups} nhóm giả định).",
        "run_folder": "Thư mục kết quả: {folder}",
        "open_comparison": "Mở báo cáo so sánh đầy đủ (comparison.html)",
        "f_unit_name": "Tên đơn vị", "f_population": "Dân số", "f_dossiers": "Hồ sơ có phí mỗi năm",
        "f_counters": "Số quầy", "f_officers": "Số cán bộ tại quầy", "f_delete_unit": "Xoá đơn vị này",
        "add_unit": "Thêm đơn vị",
        "contributions_of": "Đóng góp và chi phí mỗi điểm % của từng giải pháp thêm vào «{plan}»",
        "c_intervention": "Giải pháp", "c_cost": "Chi phí (VND)", "c_alone": "Riêng giải pháp này (điểm %)",
        "c_shapley": "Phần đóng góp Shapley (điểm %)", "c_cost_per_point": "Chi phí mỗi điểm % (VND)",
        "c_no_gain": "không tăng",
        "contributions_note": "Chi phí mỗi điểm % = chi phí của giải pháp / phần đóng góp Shapley của nó vào mức tăng "
                              "tỷ lệ cuối kỳ của cả kế hoạch (cùng dãy số ngẫu nhiên; các phần cộng lại đúng bằng "
                              "mức tăng của kế hoạch).",
        "v_rmse": "RMSE {rmse} điểm %", "v_reached": "đạt mục tiêu khoảng {date}", "v_top": "quan trọng nhất: {name}",
    },
    "en": {
        "app": "motcua studio", "lang": "en",
        "nav_scenarios": "Scenarios", "nav_compare": "Compare", "nav_runs": "Runs",
        "lang_switch": "Tiếng Việt",
        "scenarios_title": "Scenarios",
        "own": "My scenarios (folder {folder})", "bundled": "Bundled scenarios (read-only)",
        "none_yet": "No scenario yet. Make one from a bundled scenario below.",
        "new_from": "New from this scenario", "new_name": "Name of the copy",
        "edit": "Edit", "run": "Simulate", "broken": "Broken file: {problem}",
        "editor_title": "Edit scenario {name}",
        "g_general": "General", "g_units": "Units: population, dossiers, observed starting shares, counters",
        "g_interventions": "Interventions",
        "g_targets": "Targets and deadlines", "g_advanced": "Advanced: behaviour assumptions",
        "advanced_note": "Each assumption is marked observed or assumed, with its source, from the file's "
                         "[provenance] table.",
        "f_title": "Title", "f_start": "First simulated day", "f_horizon_days": "Simulated days",
        "f_replications": "Replications", "f_seed": "Random seed",
        "f_observed_share": "Observed share (%)", "f_observed_share_source": "Source",
        "f_observed_from": "Observed from", "f_observed_to": "to",
        "f_kind": "Kind", "f_name": "Name", "f_units": "Units", "f_start_i": "From",
        "f_end": "To", "f_intensity": "Intensity", "f_capacity_per_day": "Citizens/day/unit",
        "f_cost_vnd": "Cost (VND)", "f_guidance_minutes": "Guidance minutes/citizen",
        "f_fee_reduction_share": "Fee waived (%)", "f_delete": "Delete this intervention",
        "f_share": "Target share (%)", "f_date": "Deadline", "all_units_choice": "All",
        "add_intervention": "Add intervention", "validate": "Check", "save": "Save",
        "saved": "Saved {file}. It is an ordinary TOML scenario (motcua scenario check accepts it).",
        "valid": "The scenario is valid.", "invalid": "The scenario is not valid yet: see the marked fields.",
        "warning": "Note", "errors_elsewhere": "Problem outside the form: {field} = {value}: {problem}",
        "warn_outside": "Intervention “{name}” ({start} – {end}) has dates outside the simulated period "
                        "({sim_start} – {sim_end}); that part is not simulated.",
        "read_only": "Bundled scenarios are read-only: make a copy to edit.",
        "k_qr_at_counter": "QR payment at the counter", "k_counter_guidance": "Counter staff guide citizens",
        "k_community_digital_team": "Community digital team", "k_post_office_help": "Post-office help point",
        "k_online_fee_reduction": "Lower fee online", "k_refuse_in_person_filing": "No in-person filing",
        "k_vneid_drive": "Level-2 VNeID drive", "k_information_campaign": "Information campaign",
        "badge_observed": "observed", "badge_assumed": "assumed", "badge_derived": "derived",
        "badge_setting": "setting", "badge_unmarked": "no source",
        "run_title": "Run", "simulate": "Simulate", "compare_title": "Compare scenarios",
        "compare_pick": "Pick 2–5 scenarios and the baseline to compare with (default: the first picked)",
        "compare_run": "Run the comparison", "compare_col": "Compare", "baseline_col": "Baseline",
        "quick": "Quick run (short horizon, to try)", "replications": "Replications", "seed": "Seed",
        "same_run": "A run with the same inputs, seed and version exists: {run}. Open it, or run again.",
        "open_existing": "Open the existing run", "run_again": "Run again anyway",
        "jobs": "Running and queued", "job": "Job {id}", "state_queued": "queued",
        "state_running": "running", "state_done": "done", "state_failed": "failed", "state_cancelled": "cancelled",
        "state_interrupted": "stopped with the studio",
        "cancel": "Cancel", "eta": "about {eta} left", "progress": "{done}/{total} replications",
        "job_failed": "The run failed: {why}", "see_results": "See the results",
        "runs_title": "All runs", "r_started": "Started", "r_kind": "Kind", "r_scenario": "Scenario",
        "r_verdict": "Verdict", "r_report": "Report", "r_readonly": "read-only",
        "kind_simulate": "simulate", "kind_compare": "compare", "kind_run": "full run",
        "kind_loadtest": "load test", "kind_calibrate": "calibrate", "kind_sensitivity": "sensitivity",
        "no_runs": "No runs in {folder} yet.",
        "answer": "The answer", "cost_total": "Total cost of the interventions: {cost} VND.",
        "charts": "Charts", "ch_trajectories": "Weekly share paid online, by unit",
        "ch_waits": "Counter waits (minutes)", "ch_hours": "Officer-hours per open day",
        "ch_costs": "Cost by intervention (VND)", "ch_compare": "All-units share by scenario",
        "ch_diffs": "Difference in final share vs the baseline (points, 95% CI)",
        "export": "Export", "png": "PNG 300 dpi", "svg": "SVG", "xlsx": "Tables (Excel .xlsx)",
        "csv": "Tables (CSV, UTF-8)", "open_report": "Open the report",
        "differences": "Paired differences (common random numbers, 95% CI)",
        "d_measure": "Measure", "d_final_share": "Final share (points)",
        "d_probability": "Probability of target “{target}” (points)", "d_busy_hours": "Busy officer-hours (h)",
        "d_freed": "Hours freed per open day", "d_cost": "Added cost (VND)",
        "d_cost_per_point": "Cost per point gained (VND)", "d_date": "Date target reached (days)",
        "better": "“{b}” is better than “{a}”: final share {pts} points higher (95% CI {low} to {high}); "
                  "sure at the 95% level (probability ≈ {p}).",
        "worse": "“{b}” is worse than “{a}”: final share {pts} points lower (95% CI {low} to {high}); "
                 "sure at the 95% level (probability “{a}” is better ≈ {p}).",
        "unsure": "“{b}” and “{a}” cannot be told apart yet: difference {pts} points (95% CI {low} to {high}) "
                  "includes 0; probability “{b}” is better ≈ {p}. More replications would tell.",
        "scenario_col": "Scenario", "baseline": "baseline",
        "error_page": "Something went wrong", "back": "Back",
        "forbidden": "Forbidden: the access token or the form's anti-forgery token is missing or wrong.",
        "too_large": "Request too large.",
        "calibrate": "Calibrate to the data", "sensitivity": "Sensitivity analysis",
        "quick_study": "quick (to try)",
        "progress_batch": "batch {batch}: {done}/{total} runs",
        "cal_fitted": "Fitted parameters: {parameters}.",
        "cal_rmse": "Mean miss of the model against the {n} observations (RMSE): {rmse} points.",
        "sens_top": "The answer depends most on: {names} (of {groups} assumption groups).",
        "run_folder": "Run folder: {folder}",
        "open_comparison": "Open the full comparison report (comparison.html)",
        "f_unit_name": "Unit name", "f_population": "Population", "f_dossiers": "Fee-bearing dossiers per year",
        "f_counters": "Counters", "f_officers": "Officers at the counters", "f_delete_unit": "Delete this unit",
        "add_unit": "Add a unit",
        "contributions_of": "Contribution and cost per point of each intervention added in “{plan}”",
        "c_intervention": "Intervention", "c_cost": "Cost (VND)", "c_alone": "Alone (points)",
        "c_shapley": "Shapley share (points)", "c_cost_per_point": "Cost per point (VND)",
        "c_no_gain": "no gain",
        "contributions_note": "Cost per point = the intervention's cost / its Shapley share of the plan's gain in "
                              "final share (common random numbers; the shares add up exactly to the plan's gain).",
        "v_rmse": "RMSE {rmse} points", "v_reached": "target reached about {date}", "v_top": "matters most: {name}",
    },
}


def t(lang: str) -> Callable[..., str]:
    """The text lookup of `lang`: the studio's keys, then the report's (one wording for what both show)."""
    own, report = TEXTS[check_lang(lang)], REPORT_TEXTS[lang]

    def lookup(key: str, **values: Any) -> str:
        template = own.get(key) or report.get(key) or key
        return template.format(**values) if values else template

    return lookup
