// Browser-side helpers for the HappySad dashboard: the remembered colour scheme and the Predict page's photos
// (the upload panel's code is its own module, UploadPanel.razor.js).
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

    // Resolves with the verdict per file and the parsed answer (null when it was not JSON).
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
                    resolve({ files: body.files, answer: body });
                    return;
                }
                // A refused request (413, 400, 404) still names what it kept, then what it refused.
                const kept = body && Array.isArray(body.files) ? body.files : [];
                const reason = (body && (body.detail || body.title)) || `upload failed (HTTP ${xhr.status})`;
                const keptNames = new Set(kept.map(f => f.name));
                resolve({ files: kept.concat(batch.filter(i => !keptNames.has(i.file.name)).map(i => ({ name: i.file.name, status: "Rejected", reason }))), answer: body });
            };
            xhr.onerror = () => resolve({ files: batch.map(i => ({ name: i.file.name, status: "Rejected", reason: "the connection failed during the upload" })), answer: null });
            xhr.send(form);
        });
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

    // Predictions: the same batched multipart posts, answered with one verdict per file in order;
    // each verdict gets a local preview URL so the page shows the photo without sending it back,
    // and the model and class names that gave it, which the card keeps whatever is chosen next.
    async function predict(items, dotnet, previews) {
        items = items.filter(i => /\.(jpe?g|png|bmp|gif|webp)$/i.test(i.path) || (i.file.type || "").startsWith("image/") || items.length === 1);
        if (!items.length) return;
        const url = await dotnet.invokeMethodAsync("PredictUrl");
        if (!url) return;
        await dotnet.invokeMethodAsync("OnPredictStarted", items.length);
        for (const batch of batches(items)) {
            const { files: verdicts, answer } = await post(url, batch, () => { });
            const given = { model: answer && answer.model || null, class_names: answer && answer.class_names || null };
            const byName = new Map(batch.map(i => [i.file.name, i]));
            const withPreview = verdicts.map((v, n) => {
                const item = verdicts.length === batch.length ? batch[n] : byName.get(v.name);
                return Object.assign({}, v, given, { name: item ? item.path : v.name, preview: item && !v.error ? previews.create(item.file) : null });
            });
            await dotnet.invokeMethodAsync("OnPredicted", withPreview);
        }
        await dotnet.invokeMethodAsync("OnPredictFinished");
    }

    // The preview URLs one page made: each holds its photo in memory until revoked, so the page
    // hands back those of the cards it drops, and the rest go when it is disposed.
    function previewUrls() {
        const urls = new Set();
        let disposed = false;
        return {
            create(file) {
                if (disposed) return null;
                const url = URL.createObjectURL(file);
                urls.add(url);
                return url;
            },
            revoke(list) {
                for (const url of list || []) {
                    if (urls.delete(url)) URL.revokeObjectURL(url);
                }
            },
            dispose() {
                disposed = true;
                urls.forEach(url => URL.revokeObjectURL(url));
                urls.clear();
            },
        };
    }

    // Files chosen in either input or dropped (folders walked) go to handle as {file, path} items.
    function wire(dropZone, fileInput, folderInput, handle) {
        const fromInput = input => {
            const items = Array.from(input.files).map(file => ({ file, path: file.webkitRelativePath || file.name }));
            input.value = "";
            handle(items);
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
            handle(items);
        });
    }

    let camera = null;

    return {
        getDarkMode: () => {
            const stored = localStorage.getItem(themeKey);
            return stored === null ? null : stored === "true";
        },
        setDarkMode: value => localStorage.setItem(themeKey, value ? "true" : "false"),
        prefersDark: () => window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches,

        attachPredictor(dropZone, fileInput, folderInput, dotnet) {
            const previews = previewUrls();
            wire(dropZone, fileInput, folderInput, items => predict(items, dotnet, previews));
            const onPaste = e => {
                const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
                if (files.length) predict(files.map((file, n) => ({ file, path: file.name && file.name !== "image.png" ? file.name : `pasted-${Date.now()}-${n}.png` })), dotnet, previews);
            };
            document.addEventListener("paste", onPaste);
            return {
                // The webcam: one frame as a JPEG, predicted like a chosen photo.
                async capture(video) {
                    const canvas = document.createElement("canvas");
                    canvas.width = video.videoWidth;
                    canvas.height = video.videoHeight;
                    canvas.getContext("2d").drawImage(video, 0, 0);
                    const blob = await new Promise(resolve => canvas.toBlob(resolve, "image/jpeg", 0.92));
                    const file = new File([blob], `camera-${new Date().toISOString().replace(/[:.]/g, "-")}.jpg`, { type: "image/jpeg" });
                    await predict([{ file, path: file.name }], dotnet, previews);
                },
                revokePreviews: urls => previews.revoke(urls),
                dispose: () => {
                    document.removeEventListener("paste", onPaste);
                    previews.dispose();
                },
            };
        },

        // The webcam: start shows it in the video element (the predictor captures from it).
        async startCamera(video) {
            if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
                return "this browser offers no camera (a camera needs https or localhost)";
            try {
                camera = await navigator.mediaDevices.getUserMedia({ video: true });
                video.srcObject = camera;
                await video.play();
                return null;
            } catch (e) {
                return `the camera could not start: ${e.message || e.name}`;
            }
        },
        stopCamera(video) {
            if (camera) camera.getTracks().forEach(t => t.stop());
            camera = null;
            if (video) video.srcObject = null;
        },

        download(fileName, text, type) {
            const url = URL.createObjectURL(new Blob([text], { type: type || "text/csv" }));
            const a = document.createElement("a");
            a.href = url;
            a.download = fileName;
            document.body.appendChild(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 1000);
        },
    };
})();
