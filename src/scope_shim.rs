//! Temporary: the images scope until the config learns `images:`.
impl crate::config::Config {
    pub fn is_team_image(&self, _name: &str) -> bool {
        true
    }
    pub fn images_scoped(&self) -> bool {
        false
    }
}
