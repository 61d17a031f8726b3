// Opens a heapdiff flame graph in headless Chromium and checks that it is
// interactive: no script errors, search highlights and reports a matched
// share, clicking a frame zooms (the "Reset Zoom" control appears).
//
//   cd scripts && npm install playwright-core && node svg-check.js ../heapdiff.svg
//
// Needs Debian's chromium (/usr/bin/chromium). Not part of `cargo test`:
// tests never need a browser.
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const file = path.resolve(process.argv[2] || 'heapdiff.svg');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1300, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + file);

  const frames = await page.$$('#frames > g');
  if (frames.length === 0) throw new Error('no frames in ' + file);
  const firstName = await frames[frames.length - 1].$eval('title', (t) => t.textContent.split(' ')[0]);
  await page.evaluate((term) => search(term), firstName);
  const matched = await page.evaluate(() => document.getElementById('matched').textContent);
  if (!/Matched: [0-9.]+%/.test(matched)) throw new Error('search reported: ' + matched);

  await page.evaluate(() => reset_search());
  await frames[0].click();
  const unzoom = await page.evaluate(() => document.getElementById('unzoom').getAttribute('class'));
  if (unzoom === 'hide') throw new Error('clicking a frame did not zoom');
  if (errors.length) throw new Error('script errors: ' + errors.join('; '));
  await page.screenshot({ path: file.replace(/\.svg$/, '') + '.png' });
  console.log(`ok: ${frames.length} frames; search "${firstName}": ${matched}; zoom works; screenshot written`);
  await browser.close();
})().catch((e) => { console.error('svg-check: ' + e.message); process.exit(1); });
