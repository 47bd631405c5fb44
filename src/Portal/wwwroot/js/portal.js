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
