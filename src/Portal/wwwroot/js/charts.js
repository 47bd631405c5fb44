// A thin wrapper over Plotly for the portal's chart component: load Plotly on first use (it is large and
// most pages have no chart), draw or update in place, follow the theme's colours, clean up afterwards.
window.portalCharts = (function () {
  let loading = null;

  function ensurePlotly() {
    if (window.Plotly) {
      return Promise.resolve();
    }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const script = document.createElement('script');
        script.src = 'lib/plotly/plotly.min.js';
        script.onload = resolve;
        script.onerror = function () { loading = null; reject(new Error('Plotly could not be loaded.')); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  return {
    render: async function (element, data, layout, config, listener) {
      await ensurePlotly();
      if (!element || !element.isConnected) {
        return;
      }
      const style = getComputedStyle(document.body);
      const text = style.color || '#333';
      const grid = style.getPropertyValue('--rz-base-300') || 'rgba(128,128,128,0.3)';
      const themed = Object.assign({
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        margin: { l: 50, r: 20, t: 30, b: 40 },
        autosize: true
      }, layout || {});
      themed.font = Object.assign({ color: text, family: style.fontFamily }, themed.font || {});
      for (const axis of ['xaxis', 'yaxis']) {
        themed[axis] = Object.assign({ gridcolor: grid, zerolinecolor: grid }, themed[axis] || {});
      }
      window.Plotly.react(element, data, themed, Object.assign({ responsive: true, displaylogo: false }, config || {}));
      element.dataset.rendered = 'true';
      // Zooming asks the server for the visible step range again, so downsampled series gain detail.
      if (listener && !element.portalZoomHooked) {
        element.portalZoomHooked = true;
        element.on('plotly_relayout', function (e) {
          if (e['xaxis.autorange']) {
            listener.invokeMethodAsync('OnZoom', null, null);
          } else if (e['xaxis.range[0]'] !== undefined) {
            listener.invokeMethodAsync('OnZoom', e['xaxis.range[0]'], e['xaxis.range[1]']);
          }
        });
      }
    },
    purge: function (element) {
      // The element may already be gone when a page is left; that is fine.
      if (element && window.Plotly) {
        window.Plotly.purge(element);
      }
    }
  };
})();
