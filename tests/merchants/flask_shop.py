"""A shop on Flask and SQLite that integrates VNPay 2.1.0 the way a public open-source package does.

*Scenario*: a district's fee shop, written by a vendor from VNPay's Python sample and a package found online.
A citizen logs in (form ``user=…``; a session cookie), then ``POST /checkout`` with the shop's API key in
``Authorization`` gets ``{"payment_url"}``; VNPay calls ``GET /vnpay/ipn``; the browser comes back to
``GET /vnpay/return``; ``GET /orders/<txn_ref>`` tells whether the order is paid and how often it was credited.

``fixed=False`` ships the defects seen in production integrations (issue 19):

- payment URLs without ``vnp_ExpireDate``, with diacritics in ``vnp_OrderInfo``, ``vnp_CreateDate`` in UTC
  (``datetime.utcnow``), ``vnp_SecureHashType`` sent, ``vnp_IpAddr`` = the request's host (``127.0.0.1:PORT``,
  not an IP), signed with ``quote_plus`` (the Python sample's encoder) over a return URL holding ``~``;
- references from the clock, one per second (``vnp_TxnRef = yyyyMMddHHmmss``): concurrent orders share one;
- an IPN handler that reads the order's status, does some work, then writes it, without a lock
  (concurrent duplicate IPNs credit twice), and that credits whatever the IPN's ``vnp_ResponseCode``.

``fixed=True`` is the same shop done right: a UUID reference, UTC+7 dates with an expiry, ASCII order info,
no hash type, the client's IP, and one conditional ``UPDATE … WHERE status = 'pending'`` per IPN (``00``
the first time, ``02`` after), crediting only ``vnp_ResponseCode=00``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from flask import Flask, jsonify, request, session
from werkzeug.serving import make_server

VN = dt.timezone(dt.timedelta(hours=7))
API_KEY = "shop-test-key"
WORK_S = 0.05
"""The careless IPN handler's work between its read and its write (an e-mail, a receipt)."""
SCHEMA = """CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, txn_ref TEXT NOT NULL,
amount_vnd INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending', credits INTEGER NOT NULL DEFAULT 0)"""


def sample_sign(params: dict[str, str], secret: str) -> str:
    """VNPay's Python sample: sorted ``key=quote_plus(value)`` joined by ``&``, HMAC-SHA512, lower-case hex."""
    data = "&".join(f"{k}={quote_plus(str(v))}" for k, v in sorted(params.items())
                    if v != "" and k not in ("vnp_SecureHash", "vnp_SecureHashType"))
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


class FlaskShop:
    """The shop, served by werkzeug's threaded server on a free loopback port (one thread per request)."""

    def __init__(self, gateway_port: int, db_path: Path, *, fixed: bool, tmn_code: str, hash_secret: str) -> None:
        self.fixed, self.tmn_code, self.secret = fixed, tmn_code, hash_secret
        self.gateway = f"http://127.0.0.1:{gateway_port}"
        self.db_path = db_path
        with self._db() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request drowns the test output
        app = Flask("flask_shop")
        app.secret_key = "shop-test-session-key"
        app.add_url_rule("/login", view_func=self.login, methods=["POST"])
        app.add_url_rule("/checkout", view_func=self.checkout, methods=["POST"])
        app.add_url_rule("/vnpay/ipn", view_func=self.ipn)
        app.add_url_rule("/vnpay/return", view_func=self.back)
        app.add_url_rule("/~shop/vnpay/return", view_func=self.back)
        app.add_url_rule("/orders/<txn_ref>", view_func=self.status)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30, isolation_level=None)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)

    # ------------------------------------------------------------------ the citizen

    def login(self) -> Any:
        session["user"] = request.form.get("user", "")
        return jsonify(ok=True)

    def checkout(self) -> Any:
        if not session.get("user") or request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return jsonify(error="log in and send the API key"), 401
        amount = int(request.form["amount_vnd"])
        with self._db() as conn:
            order_id = conn.execute("INSERT INTO orders (txn_ref, amount_vnd) VALUES ('', ?)", (amount,)).lastrowid
            txn_ref = uuid.uuid4().hex[:20] if self.fixed else dt.datetime.now(VN).strftime("%Y%m%d%H%M%S")
            conn.execute("UPDATE orders SET txn_ref = ? WHERE id = ?", (txn_ref, order_id))
        return jsonify(payment_url=self.payment_url(txn_ref, order_id, amount, request.form.get("procedure", "")))

    def payment_url(self, txn_ref: str, order_id: int, amount: int, procedure: str) -> str:
        now = time.time()
        params = {"vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": self.tmn_code,
                  "vnp_Amount": str(amount * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": txn_ref,
                  "vnp_OrderType": "other", "vnp_Locale": "vn", "vnp_ReturnUrl": f"{self.url}/vnpay/return"}
        if self.fixed:
            params.update(vnp_OrderInfo=f"Thanh toan don {order_id} le phi {procedure}",
                          vnp_IpAddr=request.remote_addr or "127.0.0.1",
                          vnp_CreateDate=dt.datetime.fromtimestamp(now, VN).strftime("%Y%m%d%H%M%S"),
                          vnp_ExpireDate=dt.datetime.fromtimestamp(now + 900, VN).strftime("%Y%m%d%H%M%S"))
        else:  # the package's habits
            params.update(vnp_OrderInfo=f"Thanh toán đơn hàng #{order_id} lệ phí {procedure}",
                          vnp_ReturnUrl=f"{self.url}/~shop/vnpay/return",  # "~": quote_plus keeps it, WHATWG not
                          vnp_IpAddr=request.host,
                          vnp_CreateDate=dt.datetime.utcnow().strftime("%Y%m%d%H%M%S"),  # the defect: UTC
                          vnp_SecureHashType="HmacSHA512")
        query = "&".join(f"{k}={quote_plus(v)}" for k, v in sorted(params.items()))
        return f"{self.gateway}/paymentv2/vpcpay.html?{query}&vnp_SecureHash={sample_sign(params, self.secret)}"

    def back(self) -> Any:
        params = request.args.to_dict()
        ok = hmac.compare_digest(sample_sign(params, self.secret), params.get("vnp_SecureHash", ""))
        return jsonify(verified=ok, code=params.get("vnp_ResponseCode"))

    def status(self, txn_ref: str) -> Any:
        with self._db() as conn:
            row = conn.execute("SELECT status, credits FROM orders WHERE txn_ref = ? ORDER BY id LIMIT 1",
                               (txn_ref,)).fetchone()
        if row is None:
            return jsonify(error="not found"), 404
        return jsonify(paid=row[0] == "paid", credits=row[1], status=row[0])

    # ------------------------------------------------------------------ VNPay's IPN

    def ipn(self) -> Any:
        params = request.args.to_dict()
        if not hmac.compare_digest(sample_sign(params, self.secret), params.get("vnp_SecureHash", "")):
            return jsonify(RspCode="97", Message="Invalid signature")
        with self._db() as conn:
            row = conn.execute("SELECT id, amount_vnd, status FROM orders WHERE txn_ref = ? ORDER BY id LIMIT 1",
                               (params.get("vnp_TxnRef", ""),)).fetchone()
            if row is None:
                return jsonify(RspCode="01", Message="Order not found")
            if params.get("vnp_Amount") != str(row[1] * 100):
                return jsonify(RspCode="04", Message="Invalid amount")
            paid = params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus") == "00"
            if self.fixed:
                return self._settle(conn, row[0], paid)
            if row[2] != "pending":  # read …
                return jsonify(RspCode="02", Message="Order already confirmed")
            time.sleep(WORK_S)  # … work …
            conn.execute("UPDATE orders SET status = 'paid', credits = credits + 1 WHERE id = ?", (row[0],))  # … write
            return jsonify(RspCode="00", Message="Confirm Success")

    @staticmethod
    def _settle(conn: sqlite3.Connection, order_id: int, paid: bool) -> Any:
        """One conditional write: the first IPN of the order decides it (00), any later one gets 02."""
        target, credit = ("paid", 1) if paid else ("failed", 0)
        changed = conn.execute("UPDATE orders SET status = ?, credits = credits + ? WHERE id = ? AND status = "
                               "'pending'", (target, credit, order_id)).rowcount
        if changed:
            return jsonify(RspCode="00", Message="Confirm Success")
        return jsonify(RspCode="02", Message="Order already confirmed")


def shop_file(path: Path, shop_url: str, gateway_port: int, *, cancel_share: float = 0.2) -> Path:
    """The shop's merchant file: a login step, the API key header, a form body, the status page."""
    path.write_text(
        f'name = "flask shop"\ngateway_port = {gateway_port}\ncancel_share = {cancel_share}\nabandon_share = 0.05\n\n'
        f'[login]\nmethod = "POST"\nurl = "{shop_url}/login"\nbody = {{ user = "{{phone}}" }}\nencoding = "form"\n\n'
        f'[start]\nmethod = "POST"\nurl = "{shop_url}/checkout"\nencoding = "form"\n'
        'body = { amount_vnd = "{amount_vnd}", procedure = "{procedure}" }\n'
        f'headers = {{ Authorization = "Bearer {API_KEY}" }}\npay_url_in = "json"\npay_url_field = "payment_url"\n\n'
        f'[ipn]\nurl = "{shop_url}/vnpay/ipn"\n\n'
        f'[status]\nurl = "{shop_url}/orders/{{txn_ref}}"\npaid_field = "paid"\ncredits_field = "credits"\n',
        encoding="utf-8")
    return path
