//! The annotated copy laid out for A4 pages, in the units of the SVG copy (640 wide): the same
//! header, rows, footer and sizes as [`crate::copy`], drawn as a list of items grouped in
//! blocks that are never split across pages, then the QR block that verifies it online.

use crate::AnnotatedCopy;
use crate::copy::{
    FIELDS_TOP, FOOTER_NOTICE, MARGIN, PHOTO_H, field_columns, field_row, footer_columns,
    footer_detail_rows, footer_signature_rows, photo_frame, signature_fingerprint,
};
/// The layout's width in units, and the header's height, are the SVG copy's.
pub(crate) use crate::copy::{HEADER_H, W};
use crate::rows::{TextOut, draw_rows};
use crate::svg::{Anchor, BLUE_DARK, INK, LINE, MUTED, Rect, Style, WHITE};
use crate::text::{clean, text_em, wrap};

/// A4 in points, and how many points one unit is.
pub(crate) const PAGE_W_PT: f32 = 595.28;
pub(crate) const PAGE_H_PT: f32 = 841.89;
pub(crate) const SCALE: f32 = PAGE_W_PT / W;
/// Height of a page in units.
pub(crate) const PAGE_H: f32 = PAGE_H_PT / SCALE;
/// Room kept at the bottom of each page for the page number.
const BOTTOM: f32 = 48.0;
/// Side of the QR code, quiet zone included.
const QR_SIDE: f32 = 132.0;

/// One thing drawn on a page.
pub(crate) enum Item {
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
    },
    Box {
        rect: Rect,
        radius: f32,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
    },
    DashedLine {
        x1: f32,
        x2: f32,
        y: f32,
    },
    /// The gradient band with the gold rule below it.
    Header,
    /// The holder's photo, or the placeholder when it cannot be embedded.
    Photo(Rect),
    /// The QR code in `side` units with its white quiet zone.
    Qr {
        x: f32,
        y: f32,
        side: f32,
    },
}

impl TextOut for Vec<Item> {
    fn text(&mut self, x: f32, y: f32, style: Style, content: &str) {
        let text = clean(content);
        if !text.is_empty() {
            self.push(Item::Text { x, y, style, text });
        }
    }
}

/// Items that stay on one page, between `top` and `bottom`.
pub(crate) struct Block {
    pub(crate) top: f32,
    pub(crate) bottom: f32,
    pub(crate) items: Vec<Item>,
}

/// One page: the blocks it shows, and how far up they move (`offset` units).
pub(crate) struct Page<'b> {
    pub(crate) offset: f32,
    pub(crate) blocks: Vec<&'b Block>,
}

/// The copy's blocks, top to bottom, in the coordinates of one tall sheet.
pub(crate) fn blocks(copy: &AnnotatedCopy<'_>, qr_title: &str, qr_note: &str) -> Vec<Block> {
    let mut blocks = vec![header()];

    let top = FIELDS_TOP;
    let columns = field_columns(copy);
    // The photo and the rows beside it form one block; each row below it is a block.
    let mut current = Block {
        top,
        bottom: top,
        items: Vec::new(),
    };
    if copy.photo.is_some() {
        current.items.push(Item::Photo(photo_frame()));
        current.bottom = top + PHOTO_H + 16.0;
    }
    let mut y = top;
    for (label, value) in &copy.fields {
        let row = [field_row(label, value)];
        if y >= columns.narrow_until && !current.items.is_empty() {
            blocks.push(std::mem::replace(
                &mut current,
                Block {
                    top: y,
                    bottom: y,
                    items: Vec::new(),
                },
            ));
        }
        y = draw_rows(&mut current.items, &row, &columns, y);
        current.bottom = current.bottom.max(y);
    }
    y = y.max(current.bottom);
    if !current.items.is_empty() {
        blocks.push(current);
    }

    y += 14.0;
    let mut notice = Vec::new();
    notice.text(MARGIN, y, Style::new(12.0, MUTED), FOOTER_NOTICE);
    blocks.push(Block {
        top: y - 12.0,
        bottom: y + 6.0,
        items: notice,
    });
    y += 18.0;

    let footer = footer(copy, y);
    y = footer.bottom + 16.0;
    blocks.push(footer);
    blocks.push(qr_block(y, qr_title, qr_note));
    blocks
}

fn header() -> Block {
    let mut items = vec![Item::Header];
    items.text(
        MARGIN,
        47.0,
        Style::new(24.0, WHITE).bold().spacing(1.5),
        "广东省电子居住证",
    );
    let tag = "加注件";
    let tag_w = text_em(tag) * 16.0 + 28.0;
    let tag_x = W - MARGIN - tag_w;
    items.push(Item::Box {
        rect: Rect::new(tag_x, 22.0, tag_w, 32.0),
        radius: 4.0,
        fill: None,
        stroke: Some(WHITE),
    });
    items.text(
        tag_x + tag_w / 2.0,
        44.0,
        Style::new(16.0, WHITE)
            .bold()
            .anchor(Anchor::Middle)
            .spacing(2.0),
        tag,
    );
    Block {
        top: 0.0,
        bottom: HEADER_H + 3.0,
        items,
    }
}

/// The boxed footer of [`crate::copy`]: the annotation and its details, a dashed rule, the
/// signing key id and the signature fingerprint.
fn footer(copy: &AnnotatedCopy<'_>, footer_top: f32) -> Block {
    let footer_x = MARGIN;
    let footer_w = W - 2.0 * MARGIN;
    let mut items = Vec::new();
    // The box goes first so that the text lands on it; its height is known at the end.
    items.push(Item::Header);
    items.text(
        footer_x + 18.0,
        footer_top + 30.0,
        Style::new(15.0, BLUE_DARK).bold().spacing(1.0),
        "加注信息",
    );
    let columns = footer_columns(copy, footer_x, footer_w);
    // The PDF keeps the whole annotation in the footer (up to 4 lines) so that it reads in
    // full even where the watermark is hard to read.
    let detail_rows = footer_detail_rows(copy, 4);
    let mut fy = draw_rows(&mut items, &detail_rows, &columns, footer_top + 44.0);
    items.push(Item::DashedLine {
        x1: footer_x + 18.0,
        x2: footer_x + footer_w - 18.0,
        y: fy + 2.0,
    });
    fy += 12.0;
    let fingerprint = signature_fingerprint(copy.signature_b64);
    let signature_rows = footer_signature_rows(copy, &fingerprint);
    fy = draw_rows(&mut items, &signature_rows, &columns, fy);
    let footer_h = fy - footer_top + 8.0;
    items[0] = Item::Box {
        rect: Rect::new(footer_x, footer_top, footer_w, footer_h),
        radius: 8.0,
        fill: Some("#f3f6fa"),
        stroke: Some(LINE),
    };
    Block {
        top: footer_top,
        bottom: footer_top + footer_h,
        items,
    }
}

/// The QR code that verifies the copy online, with its title and note beside it.
fn qr_block(top: f32, title: &str, note: &str) -> Block {
    let mut items = vec![Item::Qr {
        x: MARGIN,
        y: top,
        side: QR_SIDE,
    }];
    let x = MARGIN + QR_SIDE + 20.0;
    let mut y = top + 28.0;
    items.text(x, y, Style::new(15.0, BLUE_DARK).bold(), title);
    let size = 12.0;
    for line in wrap(note, (W - MARGIN - x) / size, 5) {
        y += size * 1.6;
        items.text(x, y, Style::new(size, INK), &line);
    }
    Block {
        top,
        bottom: top + QR_SIDE,
        items,
    }
}

/// Lays the blocks onto pages: a block that would run into a page's bottom margin starts the
/// next page, at the top margin. The first page starts at the top edge with the header.
pub(crate) fn paginate(blocks: &[Block]) -> Vec<Page<'_>> {
    let mut pages: Vec<Page<'_>> = Vec::new();
    let limit = PAGE_H - BOTTOM;
    for block in blocks {
        let fits = pages
            .last()
            .is_some_and(|page| page.blocks.is_empty() || block.bottom - page.offset <= limit);
        if !fits {
            let offset = if pages.is_empty() {
                0.0
            } else {
                block.top - MARGIN
            };
            pages.push(Page {
                offset,
                blocks: Vec::new(),
            });
        }
        if let Some(page) = pages.last_mut() {
            page.blocks.push(block);
        }
    }
    pages
}

/// The page number at the bottom of each page, e.g. 第 1 页，共 2 页.
pub(crate) fn page_number(page: usize, pages: usize) -> Item {
    Item::Text {
        x: W / 2.0,
        y: PAGE_H - 22.0,
        style: Style::new(11.0, MUTED).anchor(Anchor::Middle),
        text: format!("第 {page} 页，共 {pages} 页"),
    }
}
