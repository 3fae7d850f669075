// Drives the real npm `vnpay` merchant client (pinned in package-lock.json) for tests/test_vnpay_client.py.
//
// Reads one JSON request on stdin, prints one JSON answer on stdout:
//   {"op": "build",   "config": {...}, "payment": {...}}          -> {"url": "..."}
//   {"op": "verify",  "config": {...}, "queries": ["a=1&b=2"], "ipn": true} -> {"results": [{isVerified, ...}]}
//   {"op": "querydr", "config": {...}, "query": {...}}            -> the library's QueryDrResponse
//   {"op": "refund",  "config": {...}, "refund": {...}}           -> the library's RefundResponse
//   {"op": "banks",   "config": {...}}                            -> {"banks": [...]}
// config: {host, tmnCode, secureSecret}. testMode stays off and both hosts point at the mock (vnpay.md §5).
import { VNPay } from 'vnpay';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf-8'));
const { host, tmnCode, secureSecret } = request.config;
const vnpay = new VNPay({
    tmnCode,
    secureSecret,
    vnpayHost: host,
    queryDrAndRefundHost: host,
    testMode: false,
    hashAlgorithm: 'SHA512',
});

async function run() {
    switch (request.op) {
        case 'build':
            return { url: vnpay.buildPaymentUrl(request.payment) };
        case 'verify':
            return {
                results: request.queries.map((raw) => {
                    // As Express (qs) hands a handler its query: every value a string.
                    const query = Object.fromEntries(new URLSearchParams(raw));
                    try {
                        const out = request.ipn ? vnpay.verifyIpnCall(query) : vnpay.verifyReturnUrl(query);
                        return { isVerified: out.isVerified, isSuccess: out.isSuccess, vnp_Amount: out.vnp_Amount,
                                 vnp_TxnRef: out.vnp_TxnRef, message: out.message };
                    } catch (error) {
                        return { threw: String(error && error.message) };
                    }
                }),
            };
        case 'querydr':
            return await vnpay.queryDr(request.query);
        case 'refund':
            return await vnpay.refund(request.refund);
        case 'banks':
            return { banks: await vnpay.getBankList() };
        default:
            throw new Error(`unknown op ${request.op}`);
    }
}

try {
    process.stdout.write(JSON.stringify(await run()) + '\n');
} catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error && error.stack) }) + '\n');
    process.exitCode = 1;
}
