// The upload panel's browser side: chosen or dropped photos, folders and zips stream to the upload
// API in batches, reporting progress and the outcome per file to the panel.
import { batches, post, wire } from "../../../../assets/file-transfer.js";

// Outcomes reach the panel in pieces far under SignalR's 32 KB message limit, batch by batch: a
// folder's outcomes in one message did not fit (a zip's can number thousands), and the upload hung.
const pieceBytes = 8 * 1024;
const encoder = new TextEncoder();

// How far an upload got, per data set, until it finishes: leaving the page, a reload, a closed tab
// or a failed batch leave it behind, so the panel can say "N of M sent" when the user comes back.
const recordKey = dataSetId => `happysad.upload.${dataSetId}`;

export function interrupted(dataSetId) {
    try {
        const record = JSON.parse(localStorage.getItem(recordKey(dataSetId)));
        return record && Number.isInteger(record.sent) && Number.isInteger(record.total) ? record : null;
    } catch {
        return null;
    }
}

export function forget(dataSetId) {
    localStorage.removeItem(recordKey(dataSetId));
}

function remember(dataSetId, record) {
    localStorage.setItem(recordKey(dataSetId), JSON.stringify(record));
}

// Files added or already here are only counted; the rest (rejections, label conflicts) need a
// look and travel whole. UploadSummary.Of sorts them the same way.
const isAdded = o => o.status === "Accepted";
const isAlreadyHere = o => o.status === "Duplicate" && !o.label_conflict;

async function report(session, outcomes) {
    await session.deliver("OnUploadCounts", outcomes.filter(isAdded).length, outcomes.filter(isAlreadyHere).length);
    let piece = [], bytes = 0;
    for (const outcome of outcomes.filter(o => !isAdded(o) && !isAlreadyHere(o))) {
        const size = encoder.encode(JSON.stringify(outcome)).length + 1;
        if (piece.length && bytes + size > pieceBytes) {
            await session.call("OnUploadOutcomes", piece);
            piece = [];
            bytes = 0;
        }
        piece.push(outcome);
        bytes += size;
    }
    if (piece.length) await session.call("OnUploadOutcomes", piece);
}

// Files the server answered for: the whole batch, or the parts a refused request says it kept (a zip's
// entries are one part).
const answered = (batch, { ok, answer }) => {
    if (ok) return batch.length;
    const kept = Array.isArray(answer?.files) ? answer.files : [];
    const parts = new Set(kept.map(f => f.index).filter(Number.isInteger));
    return Math.min(batch.length, parts.size || kept.length);
};

async function upload(items, session) {
    if (!items.length || session.disposed) return;
    if (session.busy) {
        // Dropped while an upload runs: sent as an upload of their own when it ends.
        session.queued.push(...items);
        await session.call("OnUploadQueued", session.queued.length);
        return;
    }
    session.busy = true;
    try {
        const url = await session.call("UploadUrl");
        if (!url) return;
        const total = items.reduce((sum, i) => sum + i.file.size, 0);
        const record = { sent: 0, total: items.length };
        remember(session.dataSetId, record);
        let sent = 0, lastReport = 0;
        await session.call("OnUploadStarted", items.length, total);
        for (const batch of batches(items)) {
            // Left mid-upload: stop, and leave the record saying how far it got.
            if (session.disposed) return;
            const before = sent;
            const batchSize = batch.reduce((sum, i) => sum + i.file.size, 0);
            const answer = await post(url, batch, loaded => {
                const now = Date.now();
                if (now - lastReport > 150) {
                    lastReport = now;
                    session.call("OnUploadProgress", Math.min(before + loaded, total), total, record.sent);
                }
            }, session.stop.signal);
            sent = before + batchSize;
            record.sent += answered(batch, answer);
            remember(session.dataSetId, record);
            if (session.disposed) return;
            await report(session, answer.files);
            await session.call("OnUploadProgress", sent, total, record.sent);
        }
        if (record.sent === record.total) forget(session.dataSetId);
        await session.deliver("OnUploadFinished", record.sent, record.total);
    } finally {
        session.busy = false;
        if (session.queued.length && !session.disposed) {
            const queued = session.queued.splice(0);
            session.call("OnUploadQueued", 0);
            // An upload that stopped part way keeps its "N of M sent" notice: what was dropped during
            // it is not sent over it, and the panel says so.
            if (interrupted(session.dataSetId)) {
                session.deliver("OnDropFailed", `the upload stopped part way, so the ${queued.length} file${queued.length === 1 ? "" : "s"} dropped during it ${queued.length === 1 ? "was" : "were"} not sent: drop ${queued.length === 1 ? "it" : "them"} again`);
            } else {
                upload(queued, session);
            }
        }
    }
}

export function attach(dropZone, fileInput, folderInput, dotnet, dataSetId) {
    const session = {
        dataSetId,
        busy: false,
        queued: [],
        disposed: false,
        stop: new AbortController(),
        // Nothing reaches .NET once the panel is gone (its reference is released right after), and
        // a circuit that dropped mid-upload does not stop the photos: the record still counts them.
        call: (method, ...args) => session.disposed
            ? Promise.resolve(null)
            : dotnet.invokeMethodAsync(method, ...args).catch(() => null),
        // What the panel must hear (counts, the end of the upload): a call made while the connection
        // is down is refused, not queued, so it is made again until it gets through (a minute at most).
        deliver: async (method, ...args) => {
            for (let attempt = 0; attempt < 60 && !session.disposed; attempt++) {
                try {
                    return await dotnet.invokeMethodAsync(method, ...args);
                } catch {
                    await new Promise(resolve => setTimeout(resolve, 1000));
                }
            }
            return null;
        },
    };
    const unwire = wire(dropZone, fileInput, folderInput, items => {
        session.call("OnWalking", 0);
        upload(items, session);
    }, {
        walking: files => session.call("OnWalking", files),
        failed: reason => session.deliver("OnDropFailed", reason),
    });
    return {
        dispose: () => {
            session.disposed = true;
            session.stop.abort();
            unwire();
        },
    };
}
