//! Route registry: a thin builder around `axum::Router<AppState>` that records
//! every (method, full path, capability) it registers, so the whole route
//! table can be listed ([`crate::platform::route_table`]).

use axum::{
    Router,
    handler::Handler,
    http::Method,
    routing::{self, MethodRouter},
};

use crate::platform::AppState;

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    pub method: Method,
    pub path: String,
    pub capability: &'static str,
}

/// A method router that remembers its methods.
pub struct Methods {
    router: MethodRouter<AppState>,
    methods: Vec<Method>,
}

macro_rules! methods {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            /// Routes this method to `handler`.
            pub fn $name<H, T>(handler: H) -> Methods
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                Methods {
                    router: routing::$name(handler),
                    methods: vec![Method::$method],
                }
            }
        )*

        impl Methods {
            $(
                /// Also routes this method to `handler`.
                pub fn $name<H, T>(mut self, handler: H) -> Self
                where
                    H: Handler<T, AppState>,
                    T: 'static,
                {
                    self.router = self.router.$name(handler);
                    self.methods.push(Method::$method);
                    self
                }
            )*
        }
    };
}

methods!(get => GET, post => POST, put => PUT, delete => DELETE);

/// The routes of one capability (or of several, once merged).
pub struct Routes {
    capability: &'static str,
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Routes {
    pub fn new(capability: &'static str) -> Self {
        Self {
            capability,
            router: Router::new(),
            entries: Vec::new(),
        }
    }

    pub fn route(mut self, path: &str, methods: Methods) -> Self {
        for method in methods.methods {
            self.entries.push(RouteEntry {
                method,
                path: path.to_string(),
                capability: self.capability,
            });
        }
        self.router = self.router.route(path, methods.router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.entries.extend(other.entries);
        self.router = self.router.merge(other.router);
        self
    }

    /// Mounts `other` under `prefix` (e.g. `/api/v1`); the table records the full paths.
    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.entries
            .extend(other.entries.into_iter().map(|e| RouteEntry {
                path: format!("{prefix}{}", e.path),
                ..e
            }));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// Changes the router of the routes registered so far (e.g. adds a layer).
    pub fn map(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteEntry>) {
        (self.router, self.entries)
    }
}
