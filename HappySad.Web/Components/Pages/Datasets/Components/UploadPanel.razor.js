// The upload panel's browser side: chosen or dropped photos, folders and zips stream to the upload
// API in batches, reporting progress and the outcome per file to the panel.
import { batches, post, wire } from "../../../../assets/file-transfer.js";

// Outcomes reach the panel in pieces far under SignalR's 32 KB message limit, batch by batch: a
// folder's outcomes in one message did not fit (a zip's can number thousands), and the upload hung.
const pieceBytes = 8 * 1024;
const encoder = new TextEncoder();

async function report(dotnet, outcomes) {
    let piece = [], bytes = 0;
    for (const outcome of outcomes) {
        const size = encoder.encode(JSON.stringify(outcome)).length + 1;
        if (piece.length && bytes + size > pieceBytes) {
            await dotnet.invokeMethodAsync("OnUploadOutcomes", piece);
            piece = [];
            bytes = 0;
        }
        piece.push(outcome);
        bytes += size;
    }
    if (piece.length) await dotnet.invokeMethodAsync("OnUploadOutcomes", piece);
}

async function upload(items, dotnet) {
    if (!items.length) return;
    const url = await dotnet.invokeMethodAsync("UploadUrl");
    const total = items.reduce((sum, i) => sum + i.file.size, 0);
    let sent = 0, lastReport = 0;
    await dotnet.invokeMethodAsync("OnUploadStarted", items.length, total);
    for (const batch of batches(items)) {
        const before = sent;
        const batchSize = batch.reduce((sum, i) => sum + i.file.size, 0);
        const { files: result } = await post(url, batch, loaded => {
            const now = Date.now();
            if (now - lastReport > 150) {
                lastReport = now;
                dotnet.invokeMethodAsync("OnUploadProgress", Math.min(before + loaded, total), total);
            }
        });
        sent = before + batchSize;
        await report(dotnet, result);
        await dotnet.invokeMethodAsync("OnUploadProgress", sent, total);
    }
    await dotnet.invokeMethodAsync("OnUploadFinished");
}

export function attach(dropZone, fileInput, folderInput, dotnet) {
    const unwire = wire(dropZone, fileInput, folderInput, items => upload(items, dotnet));
    return { dispose: unwire };
}
