// The upload panel's browser side: chosen or dropped photos, folders and zips stream to the upload
// API in batches, reporting progress and the outcome per file to the panel.
import { batches, post, wire } from "../../../../assets/file-transfer.js";

async function upload(items, dotnet) {
    if (!items.length) return;
    const url = await dotnet.invokeMethodAsync("UploadUrl");
    const total = items.reduce((sum, i) => sum + i.file.size, 0);
    let sent = 0, lastReport = 0;
    const outcomes = [];
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
        outcomes.push(...result);
        await dotnet.invokeMethodAsync("OnUploadProgress", sent, total);
    }
    await dotnet.invokeMethodAsync("OnUploadFinished", outcomes);
}

export function attach(dropZone, fileInput, folderInput, dotnet) {
    const unwire = wire(dropZone, fileInput, folderInput, items => upload(items, dotnet));
    return { dispose: unwire };
}
