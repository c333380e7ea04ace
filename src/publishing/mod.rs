//! Publishing: posts written once and delivered to each chosen connected account. This part
//! holds the checks a post's texts pass before anything is stored (what each platform would
//! refuse is refused here, naming the target and the rule).

pub mod text_rules;
