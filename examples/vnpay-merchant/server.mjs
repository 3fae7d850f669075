// An example merchant (a district's fee portal) integrating VNPay 2.1.0 with the npm `vnpay` library.
// It is the system under test of:
//
//     motcua loadtest scenarios/peak-day.toml --protocol vnpay --merchant examples/vnpay-merchant/merchant.toml
//
//   POST /orders        {amount_vnd, name, phone, info}  -> {ref, pay_url}  (buildPaymentUrl)
//   GET  /vnpay/ipn     VNPay's IPN: verifyIpnCall, then 97 -> 01 -> 04 -> 02 -> 00 (99 if it throws)
//   GET  /vnpay/return  where the browser comes back (verifyReturnUrl)
//   GET  /orders/:ref   {ref, status, paid, credits, amount_vnd}  (the citizen's status page)
//
// Configuration by environment (defaults: motcua's bundled TEST terminal, which protects nothing):
//   PORT=3000  VNPAY_HOST=http://127.0.0.1:18080  VNPAY_TMN_CODE=MOTCUA01  VNPAY_HASH_SECRET=...  DATA_FILE=<this folder>/orders.jsonl
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VNPay } from 'vnpay';
import { OrderStore } from './store.mjs';

const PORT = Number(process.env.PORT || 3000);
const HOST = '127.0.0.1';
const SELF = `http://${HOST}:${PORT}`;
const DATA_FILE = process.env.DATA_FILE || path.join(path.dirname(fileURLToPath(import.meta.url)), 'orders.jsonl');
const vnpay = new VNPay({
    tmnCode: process.env.VNPAY_TMN_CODE || 'MOTCUA01',
    secureSecret: process.env.VNPAY_HASH_SECRET || 'TESTONLYMOTCUAVNPAYHASHSECRET000', // TEST secret
    vnpayHost: process.env.VNPAY_HOST || 'http://127.0.0.1:18080',
    queryDrAndRefundHost: process.env.VNPAY_HOST || 'http://127.0.0.1:18080',
    testMode: false, // with testMode the library ignores vnpayHost and calls the real sandbox
    hashAlgorithm: 'SHA512',
});
const store = new OrderStore(DATA_FILE);
let sequence = 0;

/** yyyyMMddHHmmss in Viet Nam time (UTC+7), whatever the process's time zone: the library's default is not. */
function vnTime(ms) {
    return Number(new Date(ms + 7 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14));
}

function answer(res, status, body) {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
}

function ipnAnswer(res, code, message) {
    answer(res, 200, { RspCode: code, Message: message });
}

async function readJson(req) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    return JSON.parse(Buffer.concat(chunks).toString('utf-8') || '{}');
}

async function createOrder(req, res) {
    let body;
    try {
        body = await readJson(req);
    } catch {
        return answer(res, 400, { error: 'body must be JSON' });
    }
    const amount = body.amount_vnd;
    if (!Number.isSafeInteger(amount) || amount <= 0) {
        return answer(res, 422, { error: `amount_vnd must be a positive whole number of VND, got ${amount}` });
    }
    const now = Date.now();
    sequence += 1;
    const ref = `EX${vnTime(now)}${process.pid % 1000}${String(sequence).padStart(6, '0')}`;
    store.add({ ref, amount_vnd: amount, status: 'pending', credits: 0, name: String(body.name || ''),
                created_at: now / 1000 });
    const payUrl = vnpay.buildPaymentUrl({
        vnp_Amount: amount, // the library multiplies by 100
        vnp_IpAddr: '127.0.0.1',
        vnp_TxnRef: ref,
        vnp_OrderInfo: `Thanh toan le phi ${ref}`,
        vnp_OrderType: 'other',
        vnp_ReturnUrl: `${SELF}/vnpay/return`,
        vnp_Locale: 'vn',
        vnp_CreateDate: vnTime(now),
        vnp_ExpireDate: vnTime(now + 15 * 60_000),
    });
    answer(res, 201, { ref, pay_url: payUrl });
}

function ipn(query, res) {
    let verified;
    try {
        verified = vnpay.verifyIpnCall(query);
    } catch (error) { // the library throws on a non-numeric vnp_Amount
        return ipnAnswer(res, '99', `Unknown error: ${error.message}`);
    }
    if (!verified.isVerified) return ipnAnswer(res, '97', 'Invalid signature');
    const order = store.get(verified.vnp_TxnRef);
    if (!order) return ipnAnswer(res, '01', 'Order not found');
    if (Number(verified.vnp_Amount) !== order.amount_vnd) return ipnAnswer(res, '04', 'Invalid amount');
    if (order.status !== 'pending') return ipnAnswer(res, '02', 'Order already confirmed');
    if (verified.isSuccess) {
        store.creditOnce(order.ref, { transaction_no: String(query.vnp_TransactionNo), bank_code: query.vnp_BankCode });
    } else {
        store.fail(order.ref, query.vnp_ResponseCode);
    }
    return ipnAnswer(res, '00', 'Confirm Success');
}

function returnPage(query, res) {
    let verified;
    try {
        verified = vnpay.verifyReturnUrl(query);
    } catch (error) {
        return answer(res, 400, { verified: false, error: error.message });
    }
    const order = verified.isVerified ? store.get(verified.vnp_TxnRef) : undefined;
    answer(res, 200, { verified: verified.isVerified, success: verified.isSuccess, ref: verified.vnp_TxnRef,
                       status: order ? order.status : null });
}

function status(ref, res) {
    const order = store.get(ref);
    if (!order) return answer(res, 404, { error: `no order ${ref}` });
    answer(res, 200, { ref, status: order.status, paid: order.status === 'paid', credits: order.credits,
                       amount_vnd: order.amount_vnd });
}

const server = http.createServer((req, res) => {
    const url = new URL(req.url, SELF);
    const query = Object.fromEntries(url.searchParams); // every value a string, as Express hands it over
    try {
        if (req.method === 'POST' && url.pathname === '/orders') return void createOrder(req, res);
        if (req.method === 'GET' && url.pathname === '/vnpay/ipn') return ipn(query, res);
        if (req.method === 'GET' && url.pathname === '/vnpay/return') return returnPage(query, res);
        if (req.method === 'GET' && url.pathname.startsWith('/orders/')) {
            return status(decodeURIComponent(url.pathname.slice('/orders/'.length)), res);
        }
        if (req.method === 'GET' && url.pathname === '/healthz') return answer(res, 200, { ok: true });
        answer(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (error) {
        answer(res, 500, { error: String(error && error.message) });
    }
});
server.keepAliveTimeout = 30_000;
server.listen(PORT, HOST, () => console.log(`example VNPay merchant on ${SELF} (orders in ${DATA_FILE})`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
