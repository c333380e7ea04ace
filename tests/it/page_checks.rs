//! What every page must pass in the real browser: axe-core (the npm package, run inside the
//! page) finds no serious or critical violation; at phone width (375 px) nothing scrolls
//! sideways; keyboard focus is visible. Each page checked is also photographed at 1280 and
//! 375 px under `target/screenshots/`.

use fantoccini::Client;
use fantoccini::key::Key;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub const WIDE: u32 = 1280;
pub const PHONE: u32 = 375;

/// axe-core's source, from `tests/axe` (installed from its package-lock.json on first use).
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe");
        let script = dir.join("node_modules/axe-core/axe.min.js");
        if !script.is_file() {
            let installed = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| panic!("cannot run npm ({e}): install Node.js and npm"));
            assert!(installed.success(), "npm ci in tests/axe failed");
        }
        std::fs::read_to_string(&script).expect("axe-core's script")
    })
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots");
    dir
}

async fn number(browser: &Client, expression: &str) -> i64 {
    browser
        .execute(&format!("return {expression};"), vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{expression} is not a number")) as i64
}

/// Makes the page's viewport `width` CSS pixels wide (the window's frame is measured, not
/// guessed).
pub async fn viewport(browser: &Client, width: u32) {
    browser.set_window_size(width, 900).await.unwrap();
    let inner = number(browser, "window.innerWidth").await;
    let frame = i64::from(width) - inner;
    if frame != 0 {
        let outer = u32::try_from(i64::from(width) + frame).unwrap();
        browser.set_window_size(outer, 900).await.unwrap();
    }
    assert_eq!(
        number(browser, "window.innerWidth").await,
        i64::from(width),
        "the viewport could not be made {width} px wide"
    );
}

/// The serious and critical violations axe-core finds in the page as it is now.
async fn axe_violations(browser: &Client) -> Vec<String> {
    browser
        .execute(&format!("{}\nreturn true;", axe_source()), vec![])
        .await
        .expect("axe-core loads into the page");
    let found = browser
        .execute_async(
            r##"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"] }).then(
                 (r) => done(r.violations
                   .filter((v) => v.impact === "serious" || v.impact === "critical")
                   .map((v) => `${v.impact} ${v.id}: ${v.help} at ` +
                     v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; "))),
                 (e) => done([`axe failed: ${e}`]));"##,
            vec![],
        )
        .await
        .expect("axe.run answers");
    serde_json::from_value(found).expect("a list of violations")
}

/// Whether the page scrolls sideways, and which elements stick out if it does.
async fn overflow(browser: &Client) -> Option<String> {
    let found = browser
        .execute(
            r##"const width = document.documentElement.clientWidth;
               if (document.documentElement.scrollWidth <= window.innerWidth) return null;
               const wide = [...document.querySelectorAll("body *")]
                 .filter((e) => e.getBoundingClientRect().right > width + 1)
                 .slice(0, 5)
                 .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                   (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") +
                   " (" + Math.round(e.getBoundingClientRect().right) + " px)");
               return `scrollWidth ${document.documentElement.scrollWidth} > ${window.innerWidth}: ${wide.join(", ")}`;"##,
            vec![],
        )
        .await
        .unwrap();
    found.as_str().map(str::to_owned)
}

/// Tabs to the first focusable element and reads how it is drawn: an outline (or a box
/// shadow) must show where the focus is.
async fn focus_is_visible(browser: &Client) -> Result<(), String> {
    // Forward from the top of the page; inside an open dialog, back from where the dialog put
    // the focus (its last button), since forward would leave the page.
    let in_dialog = browser
        .execute(
            "if (document.querySelector('dialog[open]')) return true; \
             document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); \
             return false;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false);
    let keys = if in_dialog {
        Key::Shift + &Key::Tab.to_string()
    } else {
        Key::Tab.to_string()
    };
    browser
        .active_element()
        .await
        .unwrap()
        .send_keys(&keys)
        .await
        .unwrap();
    let drawn = browser
        .execute(
            r##"const e = document.activeElement;
               if (!e || e === document.body) return "nothing took the focus";
               const s = getComputedStyle(e);
               const outlined = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
               const shadowed = s.boxShadow && s.boxShadow !== "none";
               return outlined || shadowed ? null
                 : `${e.tagName.toLowerCase()} "${e.textContent.trim()}" has no visible focus`;"##,
            vec![],
        )
        .await
        .unwrap();
    // Out of the way again, so that the screenshots show the page at rest.
    browser
        .execute(
            "document.activeElement && document.activeElement.blur(); return true;",
            vec![],
        )
        .await
        .unwrap();
    match drawn.as_str() {
        None => Ok(()),
        Some(why) => Err(why.to_owned()),
    }
}

/// The whole page (up to 2,400 px tall) at `width`.
async fn screenshot(browser: &Client, name: &str, width: u32) {
    let (outer_width, outer_height) = browser.get_window_size().await.unwrap();
    let frame = i64::try_from(outer_height).unwrap() - number(browser, "window.innerHeight").await;
    let page = number(
        browser,
        "Math.min(document.documentElement.scrollHeight, 2400)",
    )
    .await;
    let height = u32::try_from(page + frame).unwrap();
    browser
        .set_window_size(u32::try_from(outer_width).unwrap(), height)
        .await
        .unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}-{width}.png")), png).unwrap();
}

/// axe-core on the page the browser shows now, when it is one of the service's own pages (they
/// name the service's icon; the stand-ins for Google and the platforms are not checked).
/// The browser tests' helpers call it on every page they arrive at.
pub async fn axe_if_ours(browser: &Client) {
    let ours = browser
        .execute(
            "return !!document.querySelector('link[rel=icon][href^=\"/static/icon.\"]');",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false);
    if !ours {
        return;
    }
    let violations = axe_violations(browser).await;
    let at = browser.current_url().await.unwrap();
    assert!(
        violations.is_empty(),
        "axe-core on {}:\n{}",
        at.path(),
        violations.join("\n")
    );
}

/// Every check on the page the browser shows now, which is left at 1280 px afterwards.
pub async fn check_page(browser: &Client, name: &str) {
    let at = browser.current_url().await.unwrap().path().to_owned();
    viewport(browser, WIDE).await;
    let violations = axe_violations(browser).await;
    assert!(
        violations.is_empty(),
        "axe-core on {name} ({at}) at {WIDE} px:\n{}",
        violations.join("\n")
    );
    if let Err(why) = focus_is_visible(browser).await {
        panic!("keyboard focus on {name} ({at}): {why}");
    }
    screenshot(browser, name, WIDE).await;

    viewport(browser, PHONE).await;
    if let Some(why) = overflow(browser).await {
        panic!("{name} ({at}) scrolls sideways at {PHONE} px: {why}");
    }
    let violations = axe_violations(browser).await;
    assert!(
        violations.is_empty(),
        "axe-core on {name} ({at}) at {PHONE} px:\n{}",
        violations.join("\n")
    );
    screenshot(browser, name, PHONE).await;
    viewport(browser, WIDE).await;
}
