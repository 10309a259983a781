//! The audit log page's texts.

/// The audit log page's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditText {
    ChainIntact,
    ChainBroken,
    Who,
    DownloadJsonl,
    Subject,
    Detail,
    Older,
}

impl crate::ui::i18n::Text for AuditText {
    fn both(self) -> (&'static str, &'static str) {
        match self {
            AuditText::ChainIntact => (
                "ハッシュチェーンは改ざんされていません",
                "The hash chain is intact",
            ),
            AuditText::ChainBroken => {
                ("ハッシュチェーンが壊れています", "The hash chain is broken")
            }
            AuditText::Who => ("実施者・対象", "Actor or subject"),
            AuditText::DownloadJsonl => ("JSON Lines でダウンロード", "Download as JSON lines"),
            AuditText::Subject => ("対象", "Subject"),
            AuditText::Detail => ("詳細", "Detail"),
            AuditText::Older => ("さらに古いイベント", "Older events"),
        }
    }
}
