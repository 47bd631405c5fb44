// Blazor raises components-reconnect-state-changed on the dialog; we show it, retry, and when the server no
// longer holds the circuit we resume it from persisted state (net10) before falling back to a reload.
const reconnectModal = document.getElementById("components-reconnect-modal");
reconnectModal.addEventListener("components-reconnect-state-changed", handleReconnectStateChanged);
document.getElementById("components-reconnect-button").addEventListener("click", retry);
document.getElementById("components-resume-button").addEventListener("click", resume);

function handleReconnectStateChanged(event) {
    const state = event.detail.state;
    if (state === "show") {
        if (!reconnectModal.open) {
            reconnectModal.showModal();
        }
    } else if (state === "hide") {
        reconnectModal.close();
    } else if (state === "failed") {
        document.addEventListener("visibilitychange", retryWhenDocumentBecomesVisible);
    } else if (state === "rejected") {
        resume();
    }
}

async function retry() {
    document.removeEventListener("visibilitychange", retryWhenDocumentBecomesVisible);
    try {
        if (await Blazor.reconnect()) {
            return;
        }
        await resume();
    } catch {
        document.addEventListener("visibilitychange", retryWhenDocumentBecomesVisible);
    }
}

async function resume() {
    try {
        if (await Blazor.resumeCircuit()) {
            reconnectModal.close();
            return;
        }
        location.reload();
    } catch {
        reconnectModal.classList.replace("components-reconnect-paused", "components-reconnect-resume-failed");
    }
}

async function retryWhenDocumentBecomesVisible() {
    if (document.visibilityState === "visible") {
        await retry();
    }
}
