//! Paging through a list call. Every list this rule reads goes through a [`Pager`], which stops
//! with an error naming the operation when an endpoint hands back a token it gave before, or
//! when the pages never end, instead of looping for the rest of the invocation.

use crate::error::ApiFailure;
use std::collections::HashSet;
use std::future::Future;

/// More pages than any account holds: 10,000 pages of 100 is a million resources.
pub const PAGE_BOUND: usize = 10_000;

/// Follows one list call's tokens.
#[derive(Debug)]
pub struct Pager {
    operation: &'static str,
    seen: HashSet<String>,
    pages: usize,
}

impl Pager {
    pub fn new(operation: &'static str) -> Self {
        Pager {
            operation,
            seen: HashSet::new(),
            pages: 0,
        }
    }

    /// After a page: the token to ask for the next one with, `None` when the list is done.
    pub fn next(&mut self, token: Option<&str>) -> Result<Option<String>, ApiFailure> {
        self.pages += 1;
        let Some(token) = token.filter(|token| !token.is_empty()) else {
            return Ok(None);
        };
        if !self.seen.insert(token.to_owned()) {
            return Err(ApiFailure::unusable(
                self.operation,
                format!(
                    "the endpoint returned a NextToken it had returned before, after {} page(s); stopped instead of listing the same pages again",
                    self.pages
                ),
            ));
        }
        if self.pages >= PAGE_BOUND {
            return Err(ApiFailure::unusable(
                self.operation,
                format!("more than {PAGE_BOUND} pages; stopped"),
            ));
        }
        Ok(Some(token.to_owned()))
    }
}

/// Every item of a list call, page after page.
pub async fn all_pages<T, F, Fut>(
    operation: &'static str,
    mut page: F,
) -> Result<Vec<T>, ApiFailure>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ApiFailure>>,
{
    let mut pager = Pager::new(operation);
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let (found, next) = page(token.take()).await?;
        items.extend(found);
        match pager.next(next.as_deref())? {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;

    #[tokio::test]
    async fn pages_are_followed_to_the_end() {
        let items = all_pages("ListThings", |token| async move {
            Ok(match token.as_deref() {
                None => (vec![1, 2], Some("a".to_owned())),
                Some("a") => (vec![3], Some(String::new())),
                other => panic!("unexpected token {other:?}"),
            })
        })
        .await
        .unwrap();
        assert_eq!(items, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_repeated_token_stops_with_the_operation_named() {
        let mut calls = 0;
        let failure = all_pages("ListDiscoveredResources", |_| {
            calls += 1;
            async { Ok((vec![0], Some("same".to_owned()))) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, 2);
        assert_eq!(failure.operation, "ListDiscoveredResources");
        assert_eq!(failure.kind, FailureKind::Unusable);
        assert!(failure.message.contains("returned before"), "{failure}");
    }

    #[tokio::test]
    async fn endless_fresh_tokens_stop_at_the_bound() {
        let mut calls = 0usize;
        let failure = all_pages("ListTags", |_| {
            calls += 1;
            let token = calls.to_string();
            async move { Ok((Vec::<u8>::new(), Some(token))) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, PAGE_BOUND);
        assert!(failure.message.contains("pages"), "{failure}");
    }
}
