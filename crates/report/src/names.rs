//! Function names as labels: C++ names without their parameter and
//! template argument lists, as pprof shows them by default
//! (`std::vector<int, std::allocator<int> >::push_back(int const&)` is
//! `std::vector::push_back`). The full name stays in tooltips, JSON and
//! CSV. Names of other languages are left as they are.

use std::borrow::Cow;

/// Qualifiers that may follow a C++ parameter list.
const QUALIFIERS: [&str; 5] = [" const", " volatile", " &&", " &", " noexcept"];

/// `name` without C++ parameter and template argument lists; itself when it
/// is not a demangled C++ name with a parameter list.
pub(crate) fn short_function(name: &str) -> Cow<'_, str> {
    let mut end = name.trim_end();
    while let Some(q) = QUALIFIERS.iter().find(|q| end.ends_with(*q)) {
        end = &end[..end.len() - q.len()];
    }
    if !name.contains("::") || !end.ends_with(')') {
        return Cow::Borrowed(name);
    }
    let Some(params) = opening_of_last_group(end) else {
        return Cow::Borrowed(name);
    };
    Cow::Owned(without_template_arguments(&end[..params]))
}

/// Where the balanced `(…)` group that ends `s` opens.
fn opening_of_last_group(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` without its `<…>` groups, `operator<`, `operator<<`, `operator->`
/// and the like kept.
fn without_template_arguments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if depth == 0 && rest.starts_with("operator") {
            // The operator's own symbols are part of its name.
            let after = &rest["operator".len()..];
            let symbols = after
                .find(|c: char| !"<>=-!+*/%^&|~,[]()".contains(c))
                .unwrap_or(after.len());
            out.push_str(&rest[.."operator".len() + symbols]);
            rest = &after[symbols..];
            continue;
        }
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpp_names_lose_parameters_and_template_arguments() {
        for (full, short) in [
            (
                "std::vector<int, std::allocator<int> >::push_back(int const&)",
                "std::vector::push_back",
            ),
            (
                "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)",
                "void std::vector::_M_realloc_insert",
            ),
            ("Cache::get(std::string const&) const", "Cache::get"),
            (
                "main::{lambda(int)#1}::operator()(int) const",
                "main::{lambda(int)#1}::operator()",
            ),
            ("Matrix::operator<<(std::ostream&)", "Matrix::operator<<"),
            ("Ptr<Node>::operator->() const", "Ptr::operator->"),
            ("ns::operator<(ns::A const&, ns::A const&)", "ns::operator<"),
        ] {
            assert_eq!(short_function(full), short, "{full}");
        }
    }

    #[test]
    fn other_names_are_left_alone() {
        for name in [
            "main.(*headerCache).remember",
            "<alloc::vec::Vec<T,A> as core::clone::Clone>::clone",
            "alloc::raw_vec::RawVec<T,A>::grow_one",
            "copy_header",
            "Headers.copy_from",
            "broken::name(",
        ] {
            assert_eq!(short_function(name), name);
        }
    }
}
