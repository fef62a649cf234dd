// Browser-side helpers for the HappySad dashboard: the remembered colour scheme and streaming uploads.
window.happySad = (() => {
    const themeKey = "happysad.darkMode";

    // Requests stay small enough to report progress often and to keep one bad request from
    // costing the rest; a zip always travels alone (the server unpacks it).
    const batchFiles = 20;
    const batchBytes = 32 * 1024 * 1024;

    function batches(items) {
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

    function post(url, batch, onProgress) {
        return new Promise(resolve => {
            const form = new FormData();
            for (const item of batch) form.append("files", item.file, item.path);
            const xhr = new XMLHttpRequest();
            xhr.open("POST", url);
            xhr.upload.onprogress = e => onProgress(e.loaded);
            xhr.onload = () => {
                let body = null;
                try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: reported below */ }
                if (xhr.status === 200 && body && Array.isArray(body.files)) {
                    resolve(body.files);
                    return;
                }
                // A refused request (413, 400, 404) still names what it kept, then what it refused.
                const kept = body && Array.isArray(body.files) ? body.files : [];
                const reason = (body && (body.detail || body.title)) || `upload failed (HTTP ${xhr.status})`;
                const keptNames = new Set(kept.map(f => f.name));
                resolve(kept.concat(batch.filter(i => !keptNames.has(i.file.name)).map(i => ({ name: i.file.name, status: "Rejected", reason }))));
            };
            xhr.onerror = () => resolve(batch.map(i => ({ name: i.file.name, status: "Rejected", reason: "the connection failed during the upload" })));
            xhr.send(form);
        });
    }

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
            const result = await post(url, batch, loaded => {
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

    // Walks a dropped folder; paths keep the folder names so class folders pick the class.
    async function entryFiles(entry, prefix) {
        if (entry.isFile) {
            const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
            return [{ file, path: prefix + file.name }];
        }
        const reader = entry.createReader();
        const children = [];
        for (;;) {
            const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
            if (!chunk.length) break;
            children.push(...chunk);
        }
        const nested = await Promise.all(children.map(c => entryFiles(c, prefix + entry.name + "/")));
        return nested.flat();
    }

    return {
        getDarkMode: () => {
            const stored = localStorage.getItem(themeKey);
            return stored === null ? null : stored === "true";
        },
        setDarkMode: value => localStorage.setItem(themeKey, value ? "true" : "false"),
        prefersDark: () => window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches,

        attachUploader(dropZone, fileInput, folderInput, dotnet) {
            const fromInput = input => {
                const items = Array.from(input.files).map(file => ({ file, path: file.webkitRelativePath || file.name }));
                input.value = "";
                upload(items, dotnet);
            };
            fileInput.addEventListener("change", () => fromInput(fileInput));
            folderInput.addEventListener("change", () => fromInput(folderInput));
            dropZone.addEventListener("dragover", e => { e.preventDefault(); dropZone.classList.add("drop-active"); });
            dropZone.addEventListener("dragleave", () => dropZone.classList.remove("drop-active"));
            dropZone.addEventListener("drop", async e => {
                e.preventDefault();
                dropZone.classList.remove("drop-active");
                const entries = Array.from(e.dataTransfer.items || []).map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
                const items = entries.length
                    ? (await Promise.all(entries.map(entry => entryFiles(entry, "")))).flat()
                    : Array.from(e.dataTransfer.files).map(file => ({ file, path: file.name }));
                upload(items, dotnet);
            });
        },
    };
})();
