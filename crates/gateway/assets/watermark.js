// The watermark over a remote screen or terminal: who is working and when. It is drawn by the
// page, not burned into the stream: a deterrent in screenshots and photos, not a control.
export function startWatermark(element, login) {
  const stamp = () => {
    element.textContent = `${login}  ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  };
  stamp();
  setInterval(stamp, 1000);
}
