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
