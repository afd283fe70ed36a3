/* The alarm screen's map: latest position and trail on Leaflet. Tiles only when a tile URL is
   configured (PINGANTONG_MAP_TILE_URL); otherwise the points are drawn on a blank map (no network). */
(function () {
  "use strict";
  var el = document.getElementById("alarm-map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl || !window.L) return;
  var data = JSON.parse(dataEl.textContent);
  var centre = data.latest || data.home;
  if (!centre) { el.textContent = "—"; return; }
  var map = L.map(el).setView(centre, 16);
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  if (data.trail && data.trail.length > 1) L.polyline(data.trail, { color: "#0d6efd" }).addTo(map);
  if (data.home) L.circleMarker(data.home, { radius: 6, color: "#198754" }).addTo(map).bindTooltip("家 home");
  if (data.latest) L.circleMarker(data.latest, { radius: 9, color: "#dc3545", fillOpacity: 0.8 }).addTo(map).bindTooltip("最新位置 latest");
  el.dataset.ready = "1";
})();
