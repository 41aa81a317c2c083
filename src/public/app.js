// Progressive enhancement only: every page works without this file.
document.addEventListener('DOMContentLoaded', () => {
  const zoneSelect = document.querySelector('select[data-default-browser-zone]');
  if (zoneSelect && zoneSelect.value === 'UTC') {
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (browserZone && [...zoneSelect.options].some((option) => option.value === browserZone)) {
      zoneSelect.value = browserZone;
    }
  }
});
