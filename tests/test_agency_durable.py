"""The agency's refused-IPN counts survive kill -9: a 97 is counted in SQLite before it is answered."""

from __future__ import annotations

from helpers_mock_http import ServiceProcess, call, signed_call

IPN = {"payment_id": "PAY0", "dossier_code": "000.00.20.H37-240607-0001", "amount_vnd": 1000,
       "response_code": "00"}


def test_rejected_ipn_counts_survive_kill_9_and_restart(tmp_path):
    args = ["--gateway-url", "http://127.0.0.1:9", "--agency-code", "000.00.20.H37"]
    agency = ServiceProcess("agency", tmp_path, args)
    try:
        for _ in range(5):  # unsigned
            assert call("POST", agency.url + "/ipn", IPN)[1]["RspCode"] == "97"
        for _ in range(2):  # signed, but by the agency's own key instead of the gateway's
            assert signed_call("agency", "POST", agency.url + "/ipn", IPN)[1]["RspCode"] == "97"
        status, answer = signed_call("gateway", "POST", agency.url + "/ipn", IPN)
        assert status == 200 and answer["RspCode"] == "01"  # journalled, as before
        before = call("GET", agency.url + "/stats")[1]
        assert before["ipn_by_code"] == {"01": 1, "97": 7}
        agency.kill()  # SIGKILL: no shutdown code runs
        agency = ServiceProcess("agency", tmp_path, args)
        after = call("GET", agency.url + "/stats")[1]
        assert after["ipn_by_code"] == {"01": 1, "97": 7} and after["ipn_received"] == 8
        assert after["dossiers"] == 0 and after["events"] == before["events"], "a 97 journals nothing"
        assert call("POST", agency.url + "/ipn", IPN)[1]["RspCode"] == "97"
        assert call("GET", agency.url + "/stats")[1]["ipn_by_code"]["97"] == 8
    finally:
        agency.stop()
