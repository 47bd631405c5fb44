// Small browser helpers the portal's components call through JS interop.
window.portal = {
  // Submits a server-rendered form (e.g. sign-out) so the server, not script, ends the session.
  submitForm: function (id) {
    const form = document.getElementById(id);
    if (form) {
      form.requestSubmit();
    }
  }
};

// Clipboard access needs a secure context (https or localhost); elsewhere the caller says to copy by hand.
window.portal.copyText = async function (text) {
  if (!navigator.clipboard || !window.isSecureContext) {
    return false;
  }
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
};

// Uploads the file chosen in an <input type=file> to the datasets API with progress, straight from the
// browser (the circuit never carries the bytes). Resolves to { status, body } once the server answered.
window.portal.uploadFile = function (input, url, fields, listener) {
  return new Promise(function (resolve) {
    const file = input && input.files && input.files[0];
    if (!file) {
      resolve({ status: 0, body: '' });
      return;
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(fields || {})) {
      if (value) {
        form.append(name, value);
      }
    }
    form.append('file', file, file.name);
    const request = new XMLHttpRequest();
    request.open('POST', url);
    request.setRequestHeader('X-Portal-Request', 'upload');
    let last = 0;
    request.upload.onprogress = function (e) {
      const now = Date.now();
      if (e.lengthComputable && (now - last > 150 || e.loaded === e.total)) {
        last = now;
        listener.invokeMethodAsync('OnUploadProgress', e.loaded, e.total);
      }
    };
    request.onload = function () { resolve({ status: request.status, body: request.responseText }); };
    request.onerror = function () { resolve({ status: 0, body: '' }); };
    request.send(form);
  });
};

// Drag to pan and wheel to zoom an SVG by changing its viewBox (lineage diagrams).
window.portal.panZoom = function (svg) {
  if (!svg || svg.__panZoom) {
    return;
  }
  const box = svg.viewBox.baseVal;
  let dragging = null;
  const onWheel = function (e) {
    e.preventDefault();
    const scale = e.deltaY > 0 ? 1.15 : 1 / 1.15;
    const rect = svg.getBoundingClientRect();
    const x = box.x + (e.clientX - rect.left) / rect.width * box.width;
    const y = box.y + (e.clientY - rect.top) / rect.height * box.height;
    box.x = x - (x - box.x) * scale;
    box.y = y - (y - box.y) * scale;
    box.width *= scale;
    box.height *= scale;
  };
  const onDown = function (e) {
    if (e.target.closest('a')) {
      return; // clicks on nodes navigate
    }
    dragging = { x: e.clientX, y: e.clientY, bx: box.x, by: box.y };
    svg.setPointerCapture(e.pointerId);
  };
  const onMove = function (e) {
    if (!dragging) {
      return;
    }
    const rect = svg.getBoundingClientRect();
    box.x = dragging.bx - (e.clientX - dragging.x) / rect.width * box.width;
    box.y = dragging.by - (e.clientY - dragging.y) / rect.height * box.height;
  };
  const onUp = function () { dragging = null; };
  svg.addEventListener('wheel', onWheel, { passive: false });
  svg.addEventListener('pointerdown', onDown);
  svg.addEventListener('pointermove', onMove);
  svg.addEventListener('pointerup', onUp);
  svg.__panZoom = { onWheel, onDown, onMove, onUp };
};

window.portal.panZoomStop = function (svg) {
  const handlers = svg && svg.__panZoom;
  if (!handlers) {
    return;
  }
  svg.removeEventListener('wheel', handlers.onWheel);
  svg.removeEventListener('pointerdown', handlers.onDown);
  svg.removeEventListener('pointermove', handlers.onMove);
  svg.removeEventListener('pointerup', handlers.onUp);
  delete svg.__panZoom;
};

// Resolves once Plotly has drawn into the element (Plotly.Blazor queues its calls until plotly.js loads),
// so a chart can say it is rendered; false after 20 s or if the element went away.
window.portal.whenPlotted = function (id) {
  return new Promise(function (resolve) {
    const started = Date.now();
    (function check() {
      const element = document.getElementById(id);
      if (element && element.classList.contains('js-plotly-plot') && element._fullLayout) {
        resolve(true);
      } else if (!element || Date.now() - started > 20000) {
        resolve(false);
      } else {
        setTimeout(check, 50);
      }
    })();
  });
};

// Follows a growing log like `tail -f`: stays at the end while the reader is there, stops when they scroll up.
window.portal.followLog = function (pre) {
  if (!pre) {
    return;
  }
  if (!pre.__follow) {
    pre.__follow = { atEnd: true, height: 0 };
    pre.addEventListener('scroll', function () {
      pre.__follow.atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    });
  }
  if (pre.__follow.atEnd && pre.scrollHeight !== pre.__follow.height) {
    pre.scrollTop = pre.scrollHeight;
  }
  pre.__follow.height = pre.scrollHeight;
};
