// The Predict drop zone's browser side: chosen, dropped, pasted and camera photos go to the predict
// API in batches, and each verdict comes back to the drop zone with a local preview URL.
import { batches, post, wire } from "../../../../assets/file-transfer.js";

// The same batched multipart posts as uploads, answered with one verdict per file in order;
// each verdict gets a local preview URL so the page shows the photo without sending it back,
// and the model and class names that gave it, which the card keeps whatever is chosen next.
async function predict(items, dotnet, previews) {
    items = items.filter(i => /\.(jpe?g|png|bmp|gif|webp)$/i.test(i.path) || (i.file.type || "").startsWith("image/") || items.length === 1);
    if (!items.length) return;
    const url = await dotnet.invokeMethodAsync("PredictUrl");
    if (!url) return;
    await dotnet.invokeMethodAsync("OnPredictStarted", items.length);
    for (const batch of batches(items)) {
        // Another model chosen meanwhile: the page cleared this round's verdicts, and the rest of it is not sent.
        if (await dotnet.invokeMethodAsync("PredictUrl") !== url) break;
        const { files: verdicts, answer } = await post(url, batch, () => { });
        const given = { model: answer && answer.model || null, class_names: answer && answer.class_names || null };
        const withPreview = verdicts.map((v, n) => {
            // Each verdict names its photo's position in the request, refused ones included.
            const item = Number.isInteger(v.index) ? batch[v.index] : batch[n];
            // A request refused as a whole (a model gone, a rate limit, a lost connection) comes back
            // upload-shaped: its reason is each photo's error.
            const error = v.error || (v.status === "Rejected" ? v.reason : null) || null;
            return Object.assign({}, v, given, { error, name: item ? item.path : v.name, preview: item && !error ? previews.create(item.file) : null });
        });
        await dotnet.invokeMethodAsync("OnPredicted", withPreview);
    }
    await dotnet.invokeMethodAsync("OnPredictFinished");
}

// The preview URLs one drop zone made: each holds its photo in memory until revoked, so the page
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

export function attach(dropZone, fileInput, folderInput, dotnet) {
    const previews = previewUrls();
    const unwire = wire(dropZone, fileInput, folderInput, items => predict(items, dotnet, previews), {
        failed: reason => dotnet.invokeMethodAsync("OnDropFailed", reason).catch(() => null),
    });
    const onPaste = e => {
        const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
        if (files.length) predict(files.map((file, n) => ({ file, path: file.name && file.name !== "image.png" ? file.name : `pasted-${Date.now()}-${n}.png` })), dotnet, previews);
    };
    document.addEventListener("paste", onPaste);
    let camera = null;
    const stopCamera = video => {
        if (camera) camera.getTracks().forEach(t => t.stop());
        camera = null;
        if (video) video.srcObject = null;
    };
    return {
        // The webcam: start shows it in the video element, capture predicts one frame as a JPEG
        // like a chosen photo, stop lets the camera go.
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
        stopCamera,
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
            unwire();
            document.removeEventListener("paste", onPaste);
            stopCamera(null);
            previews.dispose();
        },
    };
}
