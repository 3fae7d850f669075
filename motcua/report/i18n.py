"""Words of the campaign report (`motcua run`, `motcua report`) in Vietnamese (default) and English.

The report is written for a provincial committee, so Vietnamese is the default (``--lang vi``), with
its diacritics in UTF-8; ``--lang en`` gives the same report in English. Every text the report shows
is a key here; `text` formats one and refuses an unknown language with the choices. The chart modules
keep their own label tables and pick one with `label_table`, so every part checks a language the same way.
Numbers, shares, durations and dates are formatted by `motcua.report.numbers` (re-exported here), the one
format of the report's tables and charts. The one home of the planners' texts: ``comparison.html`` (keys
``cmp_*``) and the summary `motcua sensitivity` prints (``sens_*``) take theirs from here too, and so do
`motcua studio`'s pages (``studio.<key>``, the block after the report's), so the pages and the report keep one
table; the module is that one table, hence its length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from motcua.errors import InputError
from motcua.report.numbers import day as day
from motcua.report.numbers import duration as duration
from motcua.report.numbers import moment as moment
from motcua.report.numbers import number as number
from motcua.report.numbers import percent as percent

LANGS = ("vi", "en")
"""Languages of the report and its charts; the first is the default."""

T = TypeVar("T")

TEXTS: dict[str, dict[str, str]] = {  # keys: LANGS
    "vi": {
        "report_title": "Báo cáo chiến dịch thanh toán trực tuyến — {title}",
        "generated_from": "Lần chạy {run_id}, bắt đầu {started} (UTC); lệnh tái lập: {command}",
        "toc": "Mục lục",
        "s_summary": "Tóm tắt",
        "s_units": "Các đơn vị so với mục tiêu",
        "s_trajectories": "Diễn biến tỷ lệ thanh toán trực tuyến",
        "s_interventions": "So sánh các giải pháp",
        "s_counters": "Thời gian chờ tại bộ phận một cửa và giờ làm việc được giải phóng",
        "s_demand": "Nhu cầu thanh toán trực tuyến trong ngày cao điểm",
        "s_load": "Kiểm thử tải: thông lượng và độ trễ",
        "s_callbacks": "Độ trễ thông báo kết quả thanh toán (callback/IPN) theo ngân hàng",
        "s_feedback": "Ảnh hưởng của chất lượng hệ thống đo được lên việc áp dụng",
        "s_capacity": "Năng lực hệ thống so với đỉnh dự báo",
        "s_slo": "Đánh giá các mục tiêu chất lượng dịch vụ (SLO)",
        "s_assumptions": "Các giả định và nguồn số liệu",
        "s_appendix": "Phụ lục: toàn bộ giả định, nguồn và các bước của lần chạy",
        "key_assumptions": "Các giả định quan trọng nhất",
        "all_assumptions": "Toàn bộ giả định và số liệu của kịch bản",
        "assumption": "Giả định", "what_data": "Số liệu cần để xác định",
        "ranked_by_sensitivity": "Xếp theo mức ảnh hưởng trong lần phân tích độ nhạy của kịch bản (ở trên).",
        "ranked_by_rule": "Chưa có phân tích độ nhạy cho kịch bản này: xếp theo quy tắc cố định — các tham số chính "
                          "của mô hình áp dụng, rồi các giải pháp, hành vi và đặc điểm người dân (chạy motcua "
                          "sensitivity để xếp theo mức ảnh hưởng).",
        "see_appendix": "Danh sách đầy đủ ở Phụ lục.",
        "no_assumptions": "Kịch bản không đánh dấu số nào mà mô phỏng dùng là giả định.",
        "measured_by_this_run": "đo bằng kiểm thử tải của lần chạy này",
        "target_reached": "Mục tiêu {share} đến {date} được dự báo ĐẠT: xác suất đạt trước hạn {p} "
                          "(KTC 95% {p_low}–{p_high}); ngày đạt trung bình {when} (80% số lần lặp trong khoảng "
                          "{p10} – {p90}).",
        "target_missed": "Mục tiêu {share} đến {date} được dự báo KHÔNG ĐẠT: xác suất đạt trước hạn {p} "
                         "(KTC 95% {p_low}–{p_high}).",
        "target_missed_when": " Nếu tiếp tục, mục tiêu đạt vào khoảng {when}.",
        "no_target": "Kịch bản không đặt mục tiêu.",
        "final_share": "Tỷ lệ hồ sơ có phí thanh toán trực tuyến cuối kỳ mô phỏng ({end}): {share} "
                       "(KTC 95% {low}–{high}), từ {replications} lần lặp, hạt giống {seed}.",
        "feedback_sentence": "Với độ trễ callback đo được p95 = {p95}, {told} người đã thanh toán bị báo là "
                             "chưa nộp phí; điều đó làm tỷ lệ trực tuyến đến hạn thay đổi {points} điểm phần trăm "
                             "(KTC 95% {low}–{high}) so với một hệ thống không lỗi.",
        "slo_all_passed": "Kiểm thử tải: mọi SLO đều đạt.",
        "slo_breached": "Kiểm thử tải: VI PHẠM SLO: {names}.",
        "invariant_broken": "Bất biến đối soát BỊ VI PHẠM: có giao dịch ngân hàng đã duyệt nhưng chưa được ghi nhận "
                            "đúng một lần, đúng số tiền, hoặc có khoản được ghi nhận khi ngân hàng không duyệt.",
        "quick_note": "Chạy nhanh (--quick): tầm nhìn ngắn và ít lần lặp; số liệu chỉ để minh hoạ.",
        "interval_covers": "Các khoảng tin cậy bao gồm {covers}.",
        "covers_parameters": "cả độ bất định của tham số (giả định và hiệu chỉnh) và biến động giữa các lần lặp",
        "covers_replications": "chỉ biến động giữa các lần lặp (tham số giữ nguyên)",
        "target_not_by_end": " Mục tiêu chưa đạt đến hết tầm mô phỏng ({end}) trong {share} số lần lặp.",
        "province_observed": "{share}; toàn tỉnh quan sát {province}, nguồn {source}",
        "unit": "Đơn vị",
        "observed_start": "Tỷ lệ quan sát ban đầu",
        "final": "Cuối kỳ (KTC 95%)",
        "p_target": "Xác suất đạt mục tiêu trước hạn",
        "reached_when": "Ngày đạt (trung bình)",
        "all_units": "Toàn bộ các đơn vị",
        "never": "chưa đạt trong tầm mô phỏng",
        "intervention": "Giải pháp",
        "period": "Thời gian",
        "cost": "Chi phí (VND)",
        "points_gained": "Điểm % tăng thêm (KTC 95%)",
        "cost_per_point": "Chi phí mỗi điểm % (VND)",
        "interventions_method": "Mỗi giải pháp được đánh giá bằng cách chạy lại mô phỏng khi bỏ riêng giải pháp đó, "
                                "dùng chung dãy số ngẫu nhiên (lần lặp i của hai kịch bản có cùng hạt giống); "
                                "điểm tăng thêm = tỷ lệ cuối kỳ có giải pháp − không có giải pháp, theo cặp.",
        "no_interventions": "Kịch bản không có giải pháp nào để so sánh.",
        "not_estimable": "không ước lượng được",
        "not_distinguishable": "hiệu quả chưa phân biệt được với 0",
        "wait_before_after": "Chờ p90 trước → sau (phút)",
        "freed_per_day": "Giờ cán bộ được giải phóng mỗi ngày mở cửa",
        "peak_day": "Ngày cao điểm: {date} (ngày có số thanh toán trung bình lớn nhất); {total} thanh toán "
                    "trên cổng (KTC 95% {low}–{high}; các lần lặp từ {min} đến {max}), trong đó {fee} là phí, lệ phí "
                    "của các đơn vị được mô phỏng.",
        "demand_method": "Phí, lệ phí: từ mô hình áp dụng (số người nộp phí trực tuyến mỗi ngày). Các nhóm khác "
                         "(thuế, bảo hiểm, phạt, điện) suy ra theo cơ cấu nhóm thanh toán của kịch bản; phân bổ theo "
                         "giờ theo hồ sơ tải '{profile}'; theo ngân hàng theo tỷ trọng ngân hàng của kịch bản.",
        "group": "Nhóm thanh toán",
        "bank": "Ngân hàng",
        "per_day": "Thanh toán/ngày (KTC 95%)",
        "peak_hour": "Giờ cao điểm ({hour}h): thanh toán/giờ",
        "g_fee": "Phí, lệ phí", "g_tax": "Thuế", "g_insurance": "Bảo hiểm", "g_fine": "Xử phạt",
        "g_electricity": "Tiền điện",
        "compression": "Tải được nén thời gian: 24 giờ của ngày cao điểm thành {duration} giây (hệ số nén {factor}); "
                       "tốc độ đến = thanh toán mỗi giây thực × {factor} ÷ {completion} (tỷ lệ hành trình đi đến bước "
                       "trả tiền: VNeID mức 2 và không bỏ dở); trung bình {rate} hành trình/giây, giờ cao điểm "
                       "{peak} hành trình/giây.",
        "load_against": "Hệ thống được kiểm thử: {target}.",
        "mocks": "các dịch vụ giả lập (cổng thanh toán, ngân hàng, hệ thống một cửa) trên 127.0.0.1",
        "faults": "Tệp lỗi giả lập: {file}.",
        "conformance": "URL thanh toán VNPay của bên bán: {deviations} sai lệch so với tài liệu (được chấp nhận như "
                       "VNPay thật), {refused} bị từ chối; {kinds}.",
        "load_figures": "Bắt đầu {started} hành trình, bỏ {dropped}; {rps} yêu cầu HTTP/giây; lỗi HTTP "
                        "{errors}; callback p50 {p50}, p95 {p95}, p99 {p99}; mất {lost} callback (đối soát khôi phục "
                        "{recovered}).",
        "cb_bank": "Ngân hàng", "cb_n": "Số callback", "cb_p50": "p50", "cb_p95": "p95", "cb_lost": "Mất",
        "quality_table": "Chất lượng hệ thống: giả định và đo được",
        "q_assumed": "Giả định (kịch bản)", "q_measured": "Đo được (kiểm thử tải)",
        "q_failure": "Tỷ lệ thanh toán thất bại", "q_p50": "Độ trễ callback p50", "q_p95": "Độ trễ callback p95",
        "q_unpaid": "Tỷ lệ người đã trả bị báo «chưa nộp» (sau {after})",
        "time_scale_note": "Các dịch vụ giả lập chạy lịch trình (độ trễ ngân hàng báo về, lịch gửi lại IPN) "
                           "nhanh hơn thực tế {speed} lần; độ trễ đo được được chia cho hệ số thời gian {scale} để "
                           "quy về thời gian thực (thời gian xử lý HTTP vì thế bị phóng đại, tức là ước lượng thận "
                           "trọng). Callback mất được tính tại hạn chờ ({deadline}).",
        "fb_compare": "So sánh (theo cặp, KTC 95%)",
        "fb_measured_vs_assumed": "Đo được − giả định",
        "fb_measured_vs_flawless": "Đo được − hệ thống không lỗi",
        "fb_final": "Tỷ lệ cuối kỳ (điểm %)",
        "fb_told": "Người bị báo «chưa nộp» (tổng)",
        "capacity_measured": "Điểm gãy năng lực (tốc độ cao nhất còn giữ mọi SLO): {knee} hành trình/giây (trung bình "
                             "ngày) so với đỉnh dự báo {projected}: dư địa ×{headroom}.",
        "capacity_never_broke": "Mọi bước tăng tải đều giữ SLO, đến {knee} hành trình/giây (trung bình ngày) so với "
                                "đỉnh dự báo {projected}: dư địa ít nhất ×{headroom} (tăng --capacity-steps của "
                                "motcua loadtest để tìm điểm gãy).",
        "capacity_broke_first": "SLO đã vỡ ngay ở bước đầu ({projected} hành trình/giây): không có dư địa.",
        "capacity_not_measured": "Chưa đo điểm gãy năng lực (chạy lại với --find-capacity). Đỉnh dự báo: {projected} "
                                 "hành trình/giây trung bình ngày, {peak} ở giờ cao điểm.",
        "slo_name": "SLO", "slo_limit": "Giới hạn", "slo_measured": "Đo được", "slo_verdict": "Kết quả",
        "pass": "ĐẠT", "fail": "KHÔNG ĐẠT", "not_measured": "chưa đo",
        "slo_callback_p95_ms": "Thời gian từ khi ngân hàng duyệt đến khi hồ sơ được ghi nhận đã nộp phí "
                               "(95% số giao dịch)",
        "slo_create_p99_ms": "Thời gian tạo hồ sơ và lệnh thanh toán (99% số lượt)",
        "slo_error_rate": "Tỷ lệ yêu cầu bị lỗi",
        "slo_dropped_arrivals": "Tỷ lệ lượt truy cập theo kế hoạch mà công cụ kiểm thử không gửi kịp",
        "slo_lost_callbacks": "Số giao dịch ngân hàng đã duyệt nhưng không được báo về hệ thống (quá hạn chờ)",
        "field": "Đường dẫn trường (cho kỹ thuật)", "value": "Giá trị", "kind": "Loại", "source": "Nguồn",
        "k_observed": "quan sát", "k_assumed": "giả định", "k_derived": "suy ra", "k_setting": "thiết lập",
        "k_unmarked": "chưa ghi nguồn",
        "sources": "Nguồn tài liệu",
        "src_title": "Tiêu đề", "src_place": "Nơi, năm", "src_where": "Địa chỉ / tệp",
        "steps": "Các bước của lần chạy",
        "step": "Bước", "seconds": "Giây", "outputs": "Thư mục",
        "missing": "Bước này chưa có kết quả trong thư mục chạy ({what}).",
        "chart_alt": "Biểu đồ: {name}",
        "c_demand_title": "Thanh toán mỗi giờ trong ngày cao điểm {date} theo nhóm",
        "c_demand_axis": "Thanh toán / giờ",
        "c_hour": "Giờ trong ngày",
        "c_band": "KTC 95% (tổng)",
        "c_interventions_title": "Điểm % tỷ lệ trực tuyến cuối kỳ mà mỗi giải pháp đóng góp (KTC 95%)",
        "c_points": "Điểm phần trăm",
        "c_feedback_title": "Tỷ lệ trực tuyến: chất lượng giả định, đo được và không lỗi",
        "c_share": "Tỷ lệ thanh toán trực tuyến",
        "c_week": "Tuần bắt đầu",
        "c_assumed": "Chất lượng giả định", "c_measured": "Chất lượng đo được", "c_flawless": "Hệ thống không lỗi",
        "c_cb_title": "Độ trễ callback quy về thời gian thực theo ngân hàng, so với ngưỡng «chưa nộp»",
        "c_cb_axis": "Từ lúc ngân hàng duyệt đến khi hồ sơ được đánh dấu đã nộp (giây, thời gian thực)",
        "c_cb_share": "Tỷ lệ thanh toán",
        "c_notice": "Người dân thấy «chưa nộp» sau {after}",
        "c_target": "Mục tiêu {share}",
        # comparison.html of `motcua compare` (`motcua.report.comparison`)
        "cmp_title": "So sánh phương án — {scenario}",
        "cmp_settings": "{replications} lần lặp, hạt giống {seed}, cùng số ngẫu nhiên cho mọi phương án; "
                        "khoảng tin cậy 95%.",
        "cmp_plans": "Phương án so với phương án gốc ({baseline})",
        "cmp_figure": "Chỉ số", "cmp_baseline": "Phương án gốc", "cmp_plan": "Phương án",
        "cmp_difference": "Chênh lệch",
        "cmp_final_share": "Tỷ lệ thanh toán trực tuyến cuối kỳ (điểm %)",
        "cmp_reach_days": "Ngày đạt mục tiêu (số ngày, âm: sớm hơn)",
        "cmp_probability": "Xác suất đạt mục tiêu đúng hạn",
        "cmp_added_cost": "Chi phí tăng thêm (VND)", "cmp_cost_per_point": "Chi phí cho mỗi điểm % tăng thêm (VND)",
        "cmp_no_gain": "không tăng",
        "cmp_neither": "không đạt trong tầm mô phỏng ở cả hai phương án",
        "cmp_censored": "{n} lần lặp không đạt mục tiêu trong tầm mô phỏng được tính là ngày cuối tầm mô phỏng.",
        "cmp_contributions": "Đóng góp của từng giải pháp (điểm %)",
        "cmp_alone": "Riêng lẻ", "cmp_left_out": "Khi bỏ khỏi phương án", "cmp_shapley": "Phần Shapley",
        "cmp_additive_note": "Các đóng góp không cộng dồn: riêng lẻ cộng lại {alone} điểm, khi bỏ khỏi phương án "
                             "cộng lại {left_out} điểm, trong khi cả phương án tăng {effect} điểm. Phần Shapley chia "
                             "đúng hiệu quả của phương án, lấy trung bình theo mọi thứ tự thêm giải pháp ({subsets} "
                             "tổ hợp, {replications} lần lặp mỗi tổ hợp, cùng số ngẫu nhiên).",
        "cmp_no_contributions": "Không tính đóng góp: {reason}.",
        "cmp_charts": "Biểu đồ",
        # the summary `motcua sensitivity` prints (`motcua.commands.sensitivity`)
        "sens_head": "{scenario}: {factors} số giả định trong {groups} nhóm; với giá trị của kịch bản: tỷ lệ cuối kỳ "
                     "{share}, đạt mục tiêu {target} vào {date}, giải phóng {hours} giờ cán bộ mỗi ngày mở cửa.",
        "sens_morris": "Sàng lọc Morris (ảnh hưởng trung bình khi thay đổi từng nhóm; 8 nhóm đứng đầu theo ngày đạt "
                       "mục tiêu):",
        "sens_sobol": "Chỉ số Sobol' tổng (riêng phần) của các nhóm đứng đầu:",
        "sens_data": "Số liệu cần để xác định các giả định này:",
        "sens_censored": "{n} lần chạy chưa đạt mục tiêu trong {days} ngày mô phỏng: ngày đạt được ngoại suy theo "
                         "tốc độ 28 ngày cuối.",
        "sens_final_share": "tỷ lệ cuối kỳ", "sens_target_day": "ngày đạt", "sens_hours_freed": "giờ giải phóng",
        "sens_days": "ngày", "sens_points": "điểm %", "sens_hours": "giờ", "sens_never": "chưa đạt",
    },
    "en": {
        "report_title": "Online fee payment campaign report — {title}",
        "generated_from": "Run {run_id}, started {started} (UTC); command to reproduce: {command}",
        "toc": "Contents",
        "s_summary": "Summary",
        "s_units": "Units vs target",
        "s_trajectories": "Adoption trajectories",
        "s_interventions": "Interventions compared",
        "s_counters": "Counter waits and officer-hours freed",
        "s_demand": "Peak-day online-payment demand",
        "s_load": "Load test: throughput and latency",
        "s_callbacks": "Callback (IPN) latency by bank",
        "s_feedback": "What the measured system quality does to adoption",
        "s_capacity": "Capacity vs projected peak",
        "s_slo": "Service-level objective (SLO) verdicts",
        "s_assumptions": "Assumptions and sources",
        "s_appendix": "Appendix: every assumption, the sources and the steps of the run",
        "key_assumptions": "The assumptions that matter most",
        "all_assumptions": "Every assumption and figure of the scenario",
        "assumption": "Assumption", "what_data": "Data that would pin it down",
        "ranked_by_sensitivity": "Ranked by their effect in the scenario's sensitivity analysis (above).",
        "ranked_by_rule": "No sensitivity analysis of this scenario yet: ranked by a fixed rule — the adoption model's "
                          "main parameters, then the interventions, the citizens' behaviour and traits (run motcua "
                          "sensitivity to rank them by their effect).",
        "see_appendix": "The full list is in the appendix.",
        "no_assumptions": "The scenario marks no number the simulation reads as assumed.",
        "measured_by_this_run": "measured by the load test of this run",
        "target_reached": "Target {share} by {date} is projected to be MET: probability of reaching it by the "
                          "deadline {p} (95% CI {p_low}–{p_high}); mean date reached {when} (80% of replications "
                          "between {p10} and {p90}).",
        "target_missed": "Target {share} by {date} is projected to be MISSED: probability of reaching it by the "
                         "deadline {p} (95% CI {p_low}–{p_high}).",
        "target_missed_when": " Carrying on, it is reached around {when}.",
        "no_target": "The scenario sets no target.",
        "final_share": "Share of fee-bearing dossiers paid online at the end of the simulated period ({end}): {share} "
                       "(95% CI {low}–{high}), from {replications} replications, seed {seed}.",
        "feedback_sentence": "With the measured callback p95 of {p95}, {told} of payers are told their fee is unpaid; "
                             "that changes the online share by the deadline by {points} points (95% CI {low}–{high}) "
                             "against a flawless system.",
        "slo_all_passed": "Load test: every SLO held.",
        "slo_breached": "Load test: SLO BREACHED: {names}.",
        "invariant_broken": "Reconciliation invariant BROKEN: a bank-approved payment was not marked paid exactly "
                            "once for the amount charged, or a payment was marked paid without a bank approval.",
        "quick_note": "Quick run (--quick): short horizon and few replications; figures are illustrative.",
        "interval_covers": "The intervals cover {covers}.",
        "covers_parameters": "parameter uncertainty (assumed and calibrated numbers) and replication noise",
        "covers_replications": "replication noise only (parameters held at their values)",
        "target_not_by_end": " The target is not reached by the end of the horizon ({end}) in {share} of replications.",
        "province_observed": "{share}; province observed {province}, source {source}",
        "unit": "Unit",
        "observed_start": "Observed starting share",
        "final": "End of period (95% CI)",
        "p_target": "Probability of target by deadline",
        "reached_when": "Date reached (mean)",
        "all_units": "All units",
        "never": "not within the horizon",
        "intervention": "Intervention",
        "period": "Period",
        "cost": "Cost (VND)",
        "points_gained": "Points gained (95% CI)",
        "cost_per_point": "Cost per point (VND)",
        "interventions_method": "Each intervention is assessed by rerunning the simulation with that intervention "
                                "removed, under common random numbers (replication i of both runs shares its seed); "
                                "points gained = final share with it − without it, paired.",
        "no_interventions": "The scenario has no interventions to compare.",
        "not_estimable": "not estimable",
        "not_distinguishable": "effect not distinguishable from zero",
        "wait_before_after": "Wait p90 before → after (min)",
        "freed_per_day": "Officer-hours freed per open day",
        "peak_day": "Busiest day: {date} (the day with the highest mean number of payments); {total} payments on the "
                    "platform (95% CI {low}–{high}; replications from {min} to {max}), of which {fee} are fees of the "
                    "simulated units.",
        "demand_method": "Fees: from the adoption model (citizens paying a fee online each day). Other groups (taxes, "
                         "insurance, fines, electricity) follow the scenario's payment-group mix; spread over the "
                         "hours by the load profile '{profile}'; over banks by the scenario's bank shares.",
        "group": "Payment group",
        "bank": "Bank",
        "per_day": "Payments/day (95% CI)",
        "peak_hour": "Peak hour ({hour}h): payments/hour",
        "g_fee": "Fees and charges", "g_tax": "Taxes", "g_insurance": "Insurance", "g_fine": "Fines",
        "g_electricity": "Electricity",
        "compression": "The load is time-compressed: the busiest day's 24 hours run in {duration} s (compression "
                       "factor {factor}); arrival rate = real payments per second × {factor} ÷ {completion} (share of "
                       "journeys that reach the charge: level-2 VNeID and not abandoned); mean {rate} journeys/s, "
                       "peak hour {peak} journeys/s.",
        "load_against": "System under test: {target}.",
        "mocks": "the mock services (gateway, banks, one-stop-shop system) on 127.0.0.1",
        "faults": "Fault file: {file}.",
        "conformance": "The merchant's VNPay payment URLs: {deviations} deviations from the documented contract "
                       "(accepted, as a real VNPay would), {refused} refused; {kinds}.",
        "load_figures": "{started} journeys started, {dropped} dropped; {rps} HTTP requests/s; HTTP errors {errors}; "
                        "callback p50 {p50}, p95 {p95}, p99 {p99}; {lost} callbacks lost ({recovered} recovered by "
                        "reconciliation).",
        "cb_bank": "Bank", "cb_n": "Callbacks", "cb_p50": "p50", "cb_p95": "p95", "cb_lost": "Lost",
        "quality_table": "System quality: assumed and measured",
        "q_assumed": "Assumed (scenario)", "q_measured": "Measured (load test)",
        "q_failure": "Payment failure rate", "q_p50": "Callback delay p50", "q_p95": "Callback delay p95",
        "q_unpaid": "Payers told “unpaid” (after {after})",
        "time_scale_note": "The mocks run their schedules (banks' notification delays, IPN retries) {speed}× faster "
                           "than real time; measured latencies are divided by the time scale {scale} to give real-time "
                           "equivalents (HTTP processing time is inflated by the same factor: a cautious estimate). "
                           "Lost callbacks count at the deadline ({deadline}).",
        "fb_compare": "Comparison (paired, 95% CI)",
        "fb_measured_vs_assumed": "Measured − assumed",
        "fb_measured_vs_flawless": "Measured − flawless system",
        "fb_final": "Final share (points)",
        "fb_told": "Payers told “unpaid” (total)",
        "capacity_measured": "Capacity knee (highest rate that held every SLO): {knee} journeys/s (day mean) vs the "
                             "projected peak {projected}: headroom ×{headroom}.",
        "capacity_never_broke": "Every step held the SLOs, up to {knee} journeys/s (day mean) vs the projected peak "
                                "{projected}: headroom at least ×{headroom} (more steps would find the knee).",
        "capacity_broke_first": "The SLOs broke at the first step ({projected} journeys/s): no headroom.",
        "capacity_not_measured": "The capacity knee was not measured (rerun with --find-capacity). Projected peak: "
                                 "{projected} journeys/s day mean, {peak} in the peak hour.",
        "slo_name": "SLO", "slo_limit": "Limit", "slo_measured": "Measured", "slo_verdict": "Verdict",
        "pass": "PASS", "fail": "FAIL", "not_measured": "not measured",
        "slo_callback_p95_ms": "Bank approval to dossier marked paid (95% of payments)",
        "slo_create_p99_ms": "Creating the dossier and its payment (99% of requests)",
        "slo_error_rate": "Share of requests that failed",
        "slo_dropped_arrivals": "Share of planned arrivals the load generator could not send in time",
        "slo_lost_callbacks": "Bank-approved payments never reported to the system (past the deadline)",
        "field": "Field path (for engineers)", "value": "Value", "kind": "Kind", "source": "Source",
        "k_observed": "observed", "k_assumed": "assumed", "k_derived": "derived", "k_setting": "setting",
        "k_unmarked": "no source given",
        "sources": "Sources",
        "src_title": "Title", "src_place": "Place, year", "src_where": "Address / file",
        "steps": "Steps of this run",
        "step": "Step", "seconds": "Seconds", "outputs": "Folder",
        "missing": "This step has no results in the run folder ({what}).",
        "chart_alt": "Chart: {name}",
        "c_demand_title": "Payments per hour on the busiest day {date}, by group",
        "c_demand_axis": "Payments / hour",
        "c_hour": "Hour of day",
        "c_band": "95% CI (total)",
        "c_interventions_title": "Points of final online share each intervention contributes (95% CI)",
        "c_points": "Percentage points",
        "c_feedback_title": "Online share: assumed, measured and flawless payment system",
        "c_share": "Share paid online",
        "c_week": "Week starting",
        "c_assumed": "Assumed quality", "c_measured": "Measured quality", "c_flawless": "Flawless system",
        "c_cb_title": "Callback delay in real-time equivalents by bank, vs the “unpaid” notice",
        "c_cb_axis": "Bank approval → dossier marked paid (s, real-time equivalent)",
        "c_cb_share": "Share of payments",
        "c_notice": "Citizen sees “unpaid” after {after}",
        "c_target": "Target {share}",
        # comparison.html of `motcua compare` (`motcua.report.comparison`)
        "cmp_title": "Plans compared — {scenario}",
        "cmp_settings": "{replications} replications, seed {seed}, the same random numbers for every plan; "
                        "95% confidence intervals.",
        "cmp_plans": "Plans against the baseline ({baseline})",
        "cmp_figure": "Figure", "cmp_baseline": "Baseline", "cmp_plan": "Plan", "cmp_difference": "Difference",
        "cmp_final_share": "Share paid online at the end (percentage points)",
        "cmp_reach_days": "Date the target is reached (days; negative: sooner)",
        "cmp_probability": "Probability of meeting the target by its deadline",
        "cmp_added_cost": "Added cost (VND)", "cmp_cost_per_point": "Cost per percentage point gained (VND)",
        "cmp_no_gain": "no gain",
        "cmp_neither": "not reached within the horizon by either plan",
        "cmp_censored": "{n} replication(s) not reaching the target within the horizon count as its last day.",
        "cmp_contributions": "Contributions of each intervention (percentage points)",
        "cmp_alone": "Alone", "cmp_left_out": "Left out of the plan", "cmp_shapley": "Shapley share",
        "cmp_additive_note": "Contributions do not add up: alone they sum to {alone} points, each left out of the "
                             "plan to {left_out}, while the whole plan gains {effect}. Shapley shares split the plan's "
                             "effect exactly, averaging each intervention's effect over every order of adding them "
                             "({subsets} subsets, {replications} replications each, common random numbers).",
        "cmp_no_contributions": "Contributions not computed: {reason}.",
        "cmp_charts": "Charts",
        # the summary `motcua sensitivity` prints (`motcua.commands.sensitivity`)
        "sens_head": "{scenario}: {factors} assumed numbers in {groups} groups; at the scenario's values: final share "
                     "{share}, the {target} target reached on {date}, {hours} officer-hours freed per open day.",
        "sens_morris": "Morris screening (mean effect of moving each group; top 8 by the date the target is reached):",
        "sens_sobol": "Sobol' total (first-order) indices of the top groups:",
        "sens_data": "What data would pin them down:",
        "sens_censored": "{n} run(s) did not reach the target within the {days}-day horizon: their date is "
                         "extrapolated at the pace of their last 28 days.",
        "sens_final_share": "final share", "sens_target_day": "date reached", "sens_hours_freed": "hours freed",
        "sens_days": "days", "sens_points": "points", "sens_hours": "h", "sens_never": "not reached",
    },
}


# ---------------------------------------------------------------------------------------------
# The words of `motcua studio`'s pages, keyed into TEXTS as ``studio.<key>`` (so none shadows the report's);
# `motcua.studio.texts.t` looks a key up there first, then among the report's own (one wording for what both show).
# ---------------------------------------------------------------------------------------------
STUDIO_TEXTS: dict[str, dict[str, str]] = {  # keys: LANGS
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
        "study_warnings": "Lưu ý của lệnh (nguyên văn tiếng Anh):",
        "open_comparison": "Mở báo cáo so sánh đầy đủ (comparison.html)",
        "f_unit_name": "Tên đơn vị", "f_population": "Dân số", "f_dossiers": "Hồ sơ có phí mỗi năm",
        "f_counters": "Số quầy", "f_officers": "Số cán bộ tại quầy", "f_delete_unit": "Xoá đơn vị này",
        "add_unit": "Thêm đơn vị",
        "observed_title": "Số liệu quan sát (để hiệu chỉnh)", "upload": "Tải lên",
        "observed_now": "Đang dùng observed/{file}.", "observed_none": "Chưa có số liệu quan sát.",
        "observed_format": "Tệp CSV UTF-8, dòng tiêu đề unit,period_start,period_end,share (source, note tuỳ chọn); "
                           "tối đa 256 KB.",
        "upload_none": "Chưa chọn tệp CSV để tải lên.",
        "upload_refused": "Tệp quan sát không được nhận: {why}. Tệp cũ vẫn giữ nguyên.",
        "upload_saved": "Đã nhận {count} quan sát, lưu thành {file}.",
        "contributions_of": "Đóng góp và chi phí mỗi điểm % của từng giải pháp thêm vào «{plan}»",
        "c_intervention": "Giải pháp", "c_cost": "Chi phí (VND)", "c_alone": "Riêng giải pháp này (điểm %)",
        "c_shapley": "Phần đóng góp Shapley (điểm %)", "c_cost_per_point": "Chi phí mỗi điểm % (VND)",
        "c_no_gain": "không tăng",
        "c_not_distinguishable": "chưa phân biệt được mức tăng với 0",
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
        "study_warnings": "The command's warnings:",
        "open_comparison": "Open the full comparison report (comparison.html)",
        "f_unit_name": "Unit name", "f_population": "Population", "f_dossiers": "Fee-bearing dossiers per year",
        "f_counters": "Counters", "f_officers": "Officers at the counters", "f_delete_unit": "Delete this unit",
        "add_unit": "Add a unit",
        "observed_title": "Observations (for calibration)", "upload": "Upload",
        "observed_now": "Using observed/{file}.", "observed_none": "No observations yet.",
        "observed_format": "A UTF-8 CSV file with the header unit,period_start,period_end,share (source, note "
                           "optional); at most 256 KB.",
        "upload_none": "No CSV file chosen to upload.",
        "upload_refused": "Observations file refused: {why}. The previous file is kept.",
        "upload_saved": "Took {count} observations, saved as {file}.",
        "contributions_of": "Contribution and cost per point of each intervention added in “{plan}”",
        "c_intervention": "Intervention", "c_cost": "Cost (VND)", "c_alone": "Alone (points)",
        "c_shapley": "Shapley share (points)", "c_cost_per_point": "Cost per point (VND)",
        "c_no_gain": "no gain",
        "c_not_distinguishable": "gain not distinguishable from 0",
        "contributions_note": "Cost per point = the intervention's cost / its Shapley share of the plan's gain in "
                              "final share (common random numbers; the shares add up exactly to the plan's gain).",
        "v_rmse": "RMSE {rmse} points", "v_reached": "target reached about {date}", "v_top": "matters most: {name}",
    },
}
for _lang, _words in STUDIO_TEXTS.items():
    TEXTS[_lang].update({f"studio.{key}": words for key, words in _words.items()})


def check_lang(lang: str) -> str:
    """`lang` if the report (and its charts) speak it; otherwise an `InputError` naming the choices."""
    if lang not in LANGS:
        raise InputError(f"--lang {lang!r}: unknown language; choose one of {', '.join(LANGS)}")
    return lang


def label_table(tables: Mapping[str, T], lang: str) -> T:
    """The table of `lang` among `tables` (one per language in `LANGS`), after `check_lang`."""
    return tables[check_lang(lang)]


def text(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang`, formatted with `values` (plain text: the caller escapes it for HTML)."""
    template = TEXTS[check_lang(lang)][key]
    return template.format(**values) if values else template


# --- `motcua optimise`'s section (motcua.report.optimisation) ---------------------------------------------------
TEXTS["vi"].update({
    "o_title": "Phương án tối ưu — {scenario}",
    "s_optimise": "Phương án tối ưu và mức bảo đảm",
    "o_goal_least_cost": "Mục tiêu: chi phí thấp nhất sao cho xác suất đạt chỉ tiêu đúng hạn ≥ {p}.",
    "o_goal_earliest_date": "Mục tiêu: ngày sớm nhất đạt chỉ tiêu với xác suất ≥ {p}, trong ngân sách {budget} VND.",
    "o_cover_parameters": "Xác suất tính cả độ bất định của tham số và của các lần lặp (mỗi lần lặp rút bộ tham số "
                          "riêng, giống nhau cho mọi phương án).",
    "o_cover_replications": "Xác suất chỉ tính độ bất định của các lần lặp (tham số giữ nguyên giá trị).",
    "o_infeasible": "KHÔNG KHẢ THI: không phương án nào đạt yêu cầu khi tìm kiếm; xác suất cao nhất tìm được {p}. "
                    "Phương án dưới đây là phương án tốt nhất tìm được.",
    "o_plan": "Phương án",
    "o_no_lever": "Phương án không dùng biện pháp nào trong bảng [optimise]; chỉ giữ các biện pháp sẵn có.",
    "o_lever": "Biện pháp", "o_units": "Đơn vị", "o_period": "Từ – đến", "o_effort": "Cường độ",
    "o_cost": "Chi phí (VND)",
    "o_total": "Tổng chi phí (kể cả các biện pháp giữ nguyên): {cost} VND.",
    "o_guarantee_heading": "Mức bảo đảm",
    "o_guarantee": "Chạy lại phương án trên {n} chuỗi ngẫu nhiên mới mà quá trình tìm kiếm chưa dùng: đạt chỉ tiêu "
                   "đúng hạn {successes}/{n} lần (P̂ = {p}); cận dưới một phía {confidence} là {lower}, nên mức bảo "
                   "đảm {verdict} (cần ≥ {required}).",
    "o_guarantee_date": "Chạy lại phương án trên {n} chuỗi ngẫu nhiên mới mà quá trình tìm kiếm chưa dùng: đạt chỉ "
                        "tiêu trước ngày {date} {successes}/{n} lần (P̂ = {p}); cận dưới một phía {confidence} là "
                        "{lower}, nên mức bảo đảm {verdict} (cần ≥ {required}).",
    "o_holds": "được giữ", "o_fails": "KHÔNG được giữ",
    "o_draws": "Mỗi lần lặp rút lại {factors} tham số không chắc chắn ({draws} lần rút).",
    "o_front": "Đường biên chi phí – xác suất",
    "o_trace": "Quá trình tìm kiếm",
    "o_source": "Cách tìm", "o_plans": "Số phương án đã mô phỏng", "o_feasible": "Đạt yêu cầu",
    "o_best": "Tốt nhất đạt yêu cầu",
    "o_src_optuna": "Optuna TPE (có ràng buộc)", "o_src_random": "Tìm kiếm ngẫu nhiên (đối chứng)",
    "o_day": "ngày thứ {day}",
    "o_trace_note": "Tổng cộng {simulations} lần mô phỏng trong {wall} giây.",
    "o_baselines": "So với các phương án đối chứng (trên cùng các chuỗi ngẫu nhiên mới)",
    "o_baseline": "Phương án đối chứng", "o_p": "P̂", "o_lower": "Cận dưới 95%",
    "o_saving": "Phương án tối ưu rẻ hơn (VND)", "o_date": "Ngày đạt với xác suất p",
    "o_b_random_search": "Tìm kiếm ngẫu nhiên, cùng số lần mô phỏng", "o_b_scenario_plan": "Phương án của kịch bản",
    "o_b_even_spread": "Ngân sách chia đều cho mọi biện pháp",
    "c_front_title": "Chi phí và kết quả của các phương án đã mô phỏng",
    "c_front_cost": "Chi phí (triệu VND)",
    "c_front_p": "Xác suất đạt chỉ tiêu đúng hạn",
    "c_front_date": "Ngày đạt chỉ tiêu với xác suất p",
    "c_front_searched": "Phương án đã mô phỏng", "c_front_front": "Đường biên (không bị trội)",
    "c_front_chosen": "Phương án chọn", "c_front_required": "Yêu cầu {p}",
})
TEXTS["en"].update({
    "o_title": "Optimised plan — {scenario}",
    "s_optimise": "Optimised plan and its guarantee",
    "o_goal_least_cost": "Goal: least cost such that the probability of reaching the target by its deadline is "
                         "≥ {p}.",
    "o_goal_earliest_date": "Goal: the earliest date the target is reached with probability ≥ {p}, within a budget "
                            "of {budget} VND.",
    "o_cover_parameters": "Probabilities cover parameters and replications (each replication draws its own "
                          "parameters, the same for every plan).",
    "o_cover_replications": "Probabilities cover replications only (parameters held at their values).",
    "o_infeasible": "INFEASIBLE: no plan met the requirement in the search; the best probability found is {p}. "
                    "The plan below is the best found.",
    "o_plan": "Plan",
    "o_no_lever": "The plan uses none of the [optimise] levers; it keeps the other interventions only.",
    "o_lever": "Lever", "o_units": "Units", "o_period": "From – to", "o_effort": "Effort", "o_cost": "Cost (VND)",
    "o_total": "Total cost (interventions it keeps included): {cost} VND.",
    "o_guarantee_heading": "Guarantee",
    "o_guarantee": "Re-run on {n} fresh random streams the search never saw, the plan reached the target by its "
                   "deadline {successes}/{n} times (P̂ = {p}); the one-sided {confidence} lower bound is {lower}, so "
                   "the guarantee {verdict} (needs ≥ {required}).",
    "o_guarantee_date": "Re-run on {n} fresh random streams the search never saw, the plan reached the target by "
                        "{date} {successes}/{n} times (P̂ = {p}); the one-sided {confidence} lower bound is {lower}, "
                        "so the guarantee {verdict} (needs ≥ {required}).",
    "o_holds": "holds", "o_fails": "does NOT hold",
    "o_draws": "Each replication drew {factors} uncertain parameters anew ({draws} draws).",
    "o_front": "Cost–probability front",
    "o_trace": "The search",
    "o_source": "Search", "o_plans": "Plans simulated", "o_feasible": "Meeting the requirement",
    "o_best": "Best meeting it",
    "o_src_optuna": "Optuna TPE (constrained)", "o_src_random": "Random search (baseline)",
    "o_day": "day {day}",
    "o_trace_note": "{simulations} simulations in all, in {wall} s.",
    "o_baselines": "Against the baselines (on the same fresh streams)",
    "o_baseline": "Baseline", "o_p": "P̂", "o_lower": "95% lower bound",
    "o_saving": "Optimised plan costs less by (VND)", "o_date": "Date reached with probability p",
    "o_b_random_search": "Random search, same number of simulations", "o_b_scenario_plan": "The scenario's own plan",
    "o_b_even_spread": "Budget spread evenly over every lever",
    "c_front_title": "Cost and result of every plan simulated",
    "c_front_cost": "Cost (million VND)",
    "c_front_p": "Probability of reaching the target by its deadline",
    "c_front_date": "Date the target is reached with probability p",
    "c_front_searched": "Plans simulated", "c_front_front": "Front (non-dominated)",
    "c_front_chosen": "Chosen plan", "c_front_required": "Required {p}",
})
