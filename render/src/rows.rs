//! Labelled fields in two columns: the label on the left in muted small text, the value on
//! the right, wrapped onto a bounded number of lines. Rows beside the photo end before it,
//! rows below it run the full width; a value that would be cut may shrink first.

use crate::svg::{INK, MUTED, Style};
use crate::text::{text_em, wrap, wrap_checked};

/// Placeholder for an empty value.
pub(crate) const EMPTY_VALUE: &str = "—";

/// One labelled field.
pub(crate) struct Row<'s> {
    label: &'s str,
    value: &'s str,
    size: f32,
    /// The value may shrink down to this size to avoid being cut.
    min_size: f32,
    /// Applied to the value's style, e.g. [`Style::bold`].
    emphasis: fn(Style) -> Style,
    max_lines: usize,
}

impl<'s> Row<'s> {
    pub(crate) fn new(label: &'s str, value: &'s str) -> Self {
        Self {
            label,
            value,
            size: 15.0,
            min_size: 15.0,
            emphasis: |style| style,
            max_lines: 1,
        }
    }
    pub(crate) fn size(mut self, size: f32) -> Self {
        self.size = size;
        self.min_size = size;
        self
    }
    pub(crate) fn shrink_to(mut self, min_size: f32) -> Self {
        self.min_size = min_size.min(self.size);
        self
    }
    pub(crate) fn emphasis(mut self, emphasis: fn(Style) -> Style) -> Self {
        self.emphasis = emphasis;
        self
    }
    pub(crate) fn lines(mut self, max_lines: usize) -> Self {
        self.max_lines = max_lines;
        self
    }
}

/// Where labels and values go. Rows that start above `narrow_until` end at
/// `narrow_right` (beside the photo), the others at `wide_right`.
pub(crate) struct Columns {
    pub(crate) label_x: f32,
    pub(crate) label_size: f32,
    pub(crate) label_max_em: f32,
    pub(crate) value_x: f32,
    pub(crate) narrow_until: f32,
    pub(crate) narrow_right: f32,
    pub(crate) wide_right: f32,
    pub(crate) row_gap: f32,
}

/// Where rows write their text: the SVG document, or the PDF layout's list of items.
pub(crate) trait TextOut {
    fn text(&mut self, x: f32, y: f32, style: Style, content: &str);
}

impl TextOut for String {
    fn text(&mut self, x: f32, y: f32, style: Style, content: &str) {
        crate::svg::text(self, x, y, style, content);
    }
}

/// Draws the rows from `top` downwards and returns the y below the last one.
pub(crate) fn draw_rows<T: TextOut + ?Sized>(
    out: &mut T,
    rows: &[Row<'_>],
    columns: &Columns,
    top: f32,
) -> f32 {
    let mut y = top;
    for row in rows {
        let right = if y < columns.narrow_until {
            columns.narrow_right
        } else {
            columns.wide_right
        };
        let available = (right - columns.value_x).max(row.size);
        let mut size = row.size;
        let mut lines = loop {
            let (lines, cut) = wrap_checked(row.value, available / size, row.max_lines);
            if !cut || size <= row.min_size {
                break lines;
            }
            size = (size - 1.0).max(row.min_size);
        };
        if lines.is_empty() {
            lines.push(EMPTY_VALUE.to_owned());
        }
        let line_height = size * 1.42;
        let baseline = y + size;
        let label = wrap(row.label, columns.label_max_em, 1);
        if let Some(label) = label.first() {
            out.text(
                columns.label_x,
                baseline,
                Style::new(columns.label_size, MUTED),
                label,
            );
        }
        let style = (row.emphasis)(Style::new(size, INK));
        let mut line_y = baseline;
        for line in &lines {
            out.text(columns.value_x, line_y, style, line);
            line_y += line_height;
        }
        y = line_y - line_height + size * 0.35 + columns.row_gap;
    }
    y
}

/// Width of the label column in em: the widest label, between 4 and 7 em.
pub(crate) fn label_column_em<'s>(labels: impl Iterator<Item = &'s str>) -> f32 {
    labels.map(text_em).fold(4.0_f32, f32::max).min(7.0)
}
