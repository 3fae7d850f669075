// The merchant's orders in one JSON file, rewritten atomically (write a temporary file, fsync, rename)
// before any answer that depends on it: a crash leaves the old file or the new one, never half of one.
//
// Node runs this server on one thread, and every change below is synchronous from the check to the
// write, so two IPNs for the same order cannot interleave: the second sees the first's credit (02).
import fs from 'node:fs';
import path from 'node:path';

export class OrderStore {
    constructor(file) {
        this.file = file;
        this.orders = new Map();
        if (fs.existsSync(file)) {
            for (const order of JSON.parse(fs.readFileSync(file, 'utf-8')).orders) this.orders.set(order.ref, order);
        }
    }

    get(ref) {
        return this.orders.get(ref);
    }

    add(order) {
        if (this.orders.has(order.ref)) throw new Error(`order ${order.ref} exists`);
        this.orders.set(order.ref, order);
        this.save();
    }

    /** Credit `ref` once: true if this call credited it, false if it was already paid. */
    creditOnce(ref, payment) {
        const order = this.orders.get(ref);
        if (order.status === 'paid') return false;
        Object.assign(order, { status: 'paid', credits: order.credits + 1, paid_at: Date.now() / 1000, ...payment });
        this.save();
        return true;
    }

    fail(ref, responseCode) {
        const order = this.orders.get(ref);
        if (order.status !== 'pending') return;
        Object.assign(order, { status: 'failed', response_code: responseCode });
        this.save();
    }

    save() {
        const tmp = `${this.file}.${process.pid}.tmp`;
        const fd = fs.openSync(tmp, 'w');
        try {
            fs.writeSync(fd, JSON.stringify({ orders: [...this.orders.values()] }));
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, this.file);
    }
}

export function ensureDir(file) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
}
