pub mod not_found;
pub mod overview;
pub mod preferences;
pub mod section;
pub mod sign_in;
