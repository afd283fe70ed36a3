/* Home location pin on the client form: click the map (or drag the pin) to set the WGS-84
   coordinates; the source becomes "map_pin". Tiles only when PINGANTONG_MAP_TILE_URL is configured
   (it must serve WGS-84/CGCS2000 tiles, e.g. Tianditu); otherwise a blank map with the pin. */
(function () {
  "use strict";
  var el = document.getElementById("home-map");
  if (!el || !window.L) return;
  var lat = document.getElementById("id_home_lat");
  var lon = document.getElementById("id_home_lon");
  var source = document.getElementById("id_home_location_source");
  var start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)] : null;
  var map = L.map(el).setView(start || [26.2634, 117.6389], start ? 17 : 12);
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  var pin = null;
  function place(latlng) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true }).addTo(map);
      pin.on("dragend", function () { place(pin.getLatLng()); });
    } else {
      pin.setLatLng(latlng);
    }
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (source) source.value = "map_pin";
  }
  if (start) { pin = L.marker(start, { draggable: true }).addTo(map); pin.on("dragend", function () { place(pin.getLatLng()); }); }
  map.on("click", function (e) { place(e.latlng); });
  el.dataset.ready = "1";
})();
