// Sending chosen or dropped photos to the API, shared by the modules of the upload panel and the
// Predict page's drop zone.

// Requests stay small enough to report progress often and to keep one bad request from
// costing the rest; a zip always travels alone (the server unpacks it).
const batchFiles = 20;
const batchBytes = 32 * 1024 * 1024;

export function batches(items) {
    const result = [];
    let current = [], bytes = 0;
    for (const item of items) {
        const isZip = item.path.toLowerCase().endsWith(".zip");
        if (current.length && (isZip || current.length >= batchFiles || bytes + item.file.size > batchBytes)) {
            result.push(current);
            current = [];
            bytes = 0;
        }
        current.push(item);
        bytes += item.file.size;
        if (isZip) {
            result.push(current);
            current = [];
            bytes = 0;
        }
    }
    if (current.length) result.push(current);
    return result;
}

// How often a batch refused for the user's rate limit (429) is sent again, after the wait the server names.
const rateLimitRetries = 8;

// Resolves with the verdict per file, the parsed answer (null when it was not JSON) and whether the
// server answered the whole batch. An abort signal stops the request; its files count as not sent.
// A batch over the user's rate limit waits as long as the server's Retry-After says and goes again.
export async function post(url, batch, onProgress, signal) {
    for (let attempt = 0; ; attempt++) {
        const sent = await postOnce(url, batch, onProgress, signal);
        if (sent.status !== 429 || attempt === rateLimitRetries || signal?.aborted) return sent.result;
        const seconds = Math.min(60, Math.max(1, Number(sent.retryAfter) || 2 ** attempt));
        await new Promise(resolve => setTimeout(resolve, seconds * 1000));
    }
}

function postOnce(url, batch, onProgress, signal) {
    return new Promise(resolve => {
        const form = new FormData();
        for (const item of batch) form.append("files", item.file, item.path);
        const xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        // The page's antiforgery token (App.razor): the API refuses cookie-signed writes without it.
        const token = document.querySelector('meta[name="request-verification-token"]')?.content;
        if (token) xhr.setRequestHeader("RequestVerificationToken", token);
        xhr.upload.onprogress = e => onProgress(e.loaded);
        xhr.onload = () => {
            let body = null;
            try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: reported below */ }
            if (xhr.status === 200 && body && Array.isArray(body.files)) {
                resolve({ status: 200, result: { files: body.files, answer: body, ok: true } });
                return;
            }
            // A refused request (413, 400, 404, 429) still names what it kept, then what it refused: by
            // position where the server gives one (two files of one name can come from two folders).
            const kept = body && Array.isArray(body.files) ? body.files : [];
            const reason = (body && (body.detail || body.title)) || `upload failed (HTTP ${xhr.status})`;
            const keptParts = new Set(kept.map(f => f.index).filter(Number.isInteger));
            const keptNames = new Set(kept.map(f => f.name));
            const wasKept = (item, n) => keptParts.size ? keptParts.has(n) : keptNames.has(item.file.name);
            resolve({
                status: xhr.status,
                retryAfter: xhr.getResponseHeader("Retry-After"),
                result: { files: kept.concat(refused(reason, (item, n) => !wasKept(item, n))), answer: body, ok: false },
            });
        };
        const failed = reason => resolve({ status: 0, result: { files: refused(reason, () => true), answer: null, ok: false } });
        // The batch's files that pass, each named by its position in the request.
        const refused = (reason, passes) => batch.flatMap((item, n) => passes(item, n) ? [{ name: item.file.name, index: n, status: "Rejected", reason }] : []);
        xhr.onerror = () => failed("the connection failed during the upload");
        xhr.onabort = () => failed("the upload was stopped");
        signal?.addEventListener("abort", () => xhr.abort(), { once: true });
        xhr.send(form);
    });
}

// Walks a dropped folder; paths keep the folder names so class folders pick the class. found
// counts the files as they are found.
async function entryFiles(entry, prefix, found) {
    if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        found();
        return [{ file, path: prefix + file.name }];
    }
    const reader = entry.createReader();
    const children = [];
    for (;;) {
        const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!chunk.length) break;
        children.push(...chunk);
    }
    const nested = await Promise.all(children.map(c => entryFiles(c, prefix + entry.name + "/", found)));
    return nested.flat();
}

// Files chosen in either input or dropped (folders walked) go to handle as {file, path} items.
// While a dropped folder is walked, walking(n) hears how many files were found so far (at most four
// times a second); a drop that cannot be read goes to failed(reason) instead of handle.
// Returns the function that takes the listeners off again.
export function wire(dropZone, fileInput, folderInput, handle, { walking = null, failed = null } = {}) {
    const fromInput = input => {
        const items = Array.from(input.files).map(file => ({ file, path: file.webkitRelativePath || file.name }));
        input.value = "";
        handle(items);
    };
    const onFiles = () => fromInput(fileInput);
    const onFolder = () => fromInput(folderInput);
    const onDragOver = e => { e.preventDefault(); dropZone.classList.add("drop-active"); };
    const onDragLeave = () => dropZone.classList.remove("drop-active");
    const onDrop = async e => {
        e.preventDefault();
        dropZone.classList.remove("drop-active");
        const entries = Array.from(e.dataTransfer.items || []).map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
        let items;
        try {
            // A drop read within a quarter of a second says nothing.
            let count = 0, reported = Date.now();
            const found = () => {
                count++;
                const now = Date.now();
                if (walking && now - reported > 250) {
                    reported = now;
                    walking(count);
                }
            };
            items = entries.length
                ? (await Promise.all(entries.map(entry => entryFiles(entry, "", found)))).flat()
                : Array.from(e.dataTransfer.files).map(file => ({ file, path: file.name }));
        } catch (error) {
            if (failed) failed(`what was dropped could not be read (${error && (error.message || error.name) || "no reason given"}); nothing was sent`);
            return;
        }
        handle(items);
    };
    fileInput.addEventListener("change", onFiles);
    folderInput.addEventListener("change", onFolder);
    dropZone.addEventListener("dragover", onDragOver);
    dropZone.addEventListener("dragleave", onDragLeave);
    dropZone.addEventListener("drop", onDrop);
    return () => {
        fileInput.removeEventListener("change", onFiles);
        folderInput.removeEventListener("change", onFolder);
        dropZone.removeEventListener("dragover", onDragOver);
        dropZone.removeEventListener("dragleave", onDragLeave);
        dropZone.removeEventListener("drop", onDrop);
    };
}
