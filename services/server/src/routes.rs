//! ArticleService, StanceService and EntityService with GetArticle, CompareStances and
//! SearchEntities answered as [`Encoded`] bytes (the first two written from the store's values,
//! see `answer.rs`, instead of the generated response types; SearchEntities' generated response
//! encoded once into a vector); every other method goes to the generated server (the router
//! sends each service only its own paths).
//! Each route is the generated one's, with the same message size limits and no compression (the
//! generated servers' default). Tonic decodes the request and writes the response's headers; a
//! successful answer's body is then its [`Encoded`] buffer as it is, framed in place
//! ([`OneMessage`]), instead of a copy of it into tonic's encoding buffer (a 19.5 KB
//! CompareStances page was copied once more there): the same DATA frame and trailers.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use communique_proto::v1 as pb;
use communique_proto::v1::article_service_server::ArticleServiceServer;
use communique_proto::v1::entity_service_server::{EntityService, EntityServiceServer};
use communique_proto::v1::stance_service_server::StanceServiceServer;
use http_body::Frame;
use prost::Message;
use prost::bytes::Bytes;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::answer::Encoded;

const COMPARE_STANCES: &str = "/communique.v1.StanceService/CompareStances";
const GET_ARTICLE: &str = "/communique.v1.ArticleService/GetArticle";
const SEARCH_ENTITIES: &str = "/communique.v1.EntityService/SearchEntities";

/// A generated server with one of its unary methods answered by `answer`.
#[derive(Clone)]
pub struct Routes<S> {
    api: Api,
    generated: S,
    max_message_bytes: usize,
}

pub type StanceRoutes = Routes<StanceServiceServer<Api>>;
pub type ArticleRoutes = Routes<ArticleServiceServer<Api>>;
pub type EntityRoutes = Routes<EntityServiceServer<Api>>;

impl StanceRoutes {
    pub fn new(api: Api, max_message_bytes: usize) -> StanceRoutes {
        Routes {
            generated: StanceServiceServer::new(api.clone())
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            api,
            max_message_bytes,
        }
    }
}

impl ArticleRoutes {
    pub fn new(api: Api, max_message_bytes: usize) -> ArticleRoutes {
        Routes {
            generated: ArticleServiceServer::new(api.clone())
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            api,
            max_message_bytes,
        }
    }
}

impl EntityRoutes {
    pub fn new(api: Api, max_message_bytes: usize) -> EntityRoutes {
        Routes {
            generated: EntityServiceServer::new(api.clone())
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            api,
            max_message_bytes,
        }
    }
}

impl<S: NamedService> NamedService for Routes<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for Routes<S>
where
    S: Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
            Future = BoxFuture<http::Response<tonic::body::Body>, Infallible>,
        > + NamedService,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.generated.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = self.max_message_bytes;
        let api = || self.api.clone();
        match request.uri().path() {
            COMPARE_STANCES => answer(CompareStances(api(), limit), request, limit),
            GET_ARTICLE => answer(GetArticle(api(), limit), request, limit),
            SEARCH_ENTITIES => answer(SearchEntities(api(), limit), request, limit),
            _ => self.generated.call(request),
        }
    }
}

/// One unary call of `method`. A successful answer leaves tonic as [`FramedAnswer`] beside an
/// empty message and becomes the response body ([`OneMessage`]); one that cannot be framed is
/// encoded by [`AnswerCodec`].
fn answer<M, T, R, B>(
    method: M,
    request: http::Request<B>,
    limit: usize,
) -> BoxFuture<http::Response<tonic::body::Body>, Infallible>
where
    M: UnaryService<R, Response = Encoded<T>> + Send + 'static,
    M::Future: Send,
    T: Send + Sync + 'static,
    R: Message + Default + Send + 'static,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = Grpc::new(AnswerCodec::<Encoded<T>, R>::default())
            .apply_max_message_size_config(Some(limit), Some(limit));
        let mut response = grpc.unary(method, request).await;
        Ok(match response.extensions_mut().remove::<FramedAnswer>() {
            Some(FramedAnswer(framed)) => {
                response.map(|_empty| tonic::body::Body::new(OneMessage::new(framed)))
            }
            None => response,
        })
    })
}

/// A successful answer, framed, carried past tonic's encoding in the response's extensions.
#[derive(Clone)]
struct FramedAnswer(Bytes);

/// `answer` with its message moved into [`FramedAnswer`]: tonic then encodes an empty message,
/// whose body [`answer`] replaces. A message over `limit` bytes stays: tonic's encoder refuses
/// it (OUT_OF_RANGE), as the generated server does.
fn framed<T>(answer: Response<Encoded<T>>, limit: usize) -> Response<Encoded<T>> {
    let (metadata, encoded, mut extensions) = answer.into_parts();
    match encoded.into_framed(limit) {
        Ok(framed) => {
            extensions.insert(FramedAnswer(framed));
            Response::from_parts(metadata, Encoded::default(), extensions)
        }
        Err(encoded) => Response::from_parts(metadata, encoded, extensions),
    }
}

/// A unary response body as tonic's encoder gives one uncompressed message: one data frame
/// (the framed message), then the trailers of an OK status.
struct OneMessage {
    framed: Option<Bytes>,
    trailers: Option<http::HeaderMap>,
}

impl OneMessage {
    fn new(framed: Bytes) -> OneMessage {
        // As tonic writes an OK status (`grpc-status: 0`), which cannot fail to encode.
        let mut trailers = http::HeaderMap::with_capacity(3);
        let written = Status::ok("").add_header(&mut trailers);
        OneMessage {
            framed: Some(framed),
            trailers: written.ok().map(|()| trailers),
        }
    }
}

impl Body for OneMessage {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(framed) = self.framed.take() {
            return Poll::Ready(Some(Ok(Frame::data(framed))));
        }
        Poll::Ready(
            self.trailers
                .take()
                .map(|trailers| Ok(Frame::trailers(trailers))),
        )
    }

    /// Not before the trailers are out, as tonic's body says: the data frame then does not end
    /// the stream, the trailers do. (No exact size hint either, as tonic's: hyper would add a
    /// content-length header.)
    fn is_end_stream(&self) -> bool {
        self.framed.is_none() && self.trailers.is_none()
    }
}

/// The API, and the largest answer it may send (bytes).
struct CompareStances(Api, usize);

impl UnaryService<pb::CompareStancesRequest> for CompareStances {
    type Response = Encoded<pb::CompareStancesResponse>;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, request: Request<pb::CompareStancesRequest>) -> Self::Future {
        let (api, limit) = (self.0.clone(), self.1);
        Box::pin(async move {
            api.stance_answer(request)
                .await
                .map(|answer| framed(answer, limit))
        })
    }
}

struct GetArticle(Api, usize);

impl UnaryService<pb::GetArticleRequest> for GetArticle {
    type Response = Encoded<pb::GetArticleResponse>;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, request: Request<pb::GetArticleRequest>) -> Self::Future {
        let (api, limit) = (self.0.clone(), self.1);
        Box::pin(async move {
            api.article_answer(request)
                .await
                .map(|answer| framed(answer, limit))
        })
    }
}

struct SearchEntities(Api, usize);

impl UnaryService<pb::SearchEntitiesRequest> for SearchEntities {
    type Response = Encoded<pb::SearchEntitiesResponse>;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, request: Request<pb::SearchEntitiesRequest>) -> Self::Future {
        let (api, limit) = (self.0.clone(), self.1);
        Box::pin(async move {
            let response = <Api as EntityService>::search_entities(&api, request).await?;
            Ok(framed(
                response.map(|message| Encoded::new(&message)),
                limit,
            ))
        })
    }
}

/// Requests decoded as the generated codec decodes them; answers (`E`) encoded into a buffer
/// reserved at their size, so that a 20 KB answer is not copied as the buffer grows. A framed
/// answer leaves only an empty message here: the buffer tonic makes for each answer starts small.
struct AnswerCodec<E, D>(PhantomData<fn() -> (E, D)>);

/// The buffer tonic allocates for each answer (its default: 8 KiB), grown by `encode` to an
/// answer that was not framed.
const SMALL_BUFFER_BYTES: usize = 64;
/// Tonic's default: a buffer this full goes out before the next message (unary: one message).
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

impl<E, D> Default for AnswerCodec<E, D> {
    fn default() -> Self {
        AnswerCodec(PhantomData)
    }
}

impl<E, D> Codec for AnswerCodec<E, D>
where
    E: Message + 'static,
    D: Message + Default + 'static,
{
    type Encode = E;
    type Decode = D;
    type Encoder = AnswerCodec<E, D>;
    type Decoder = AnswerCodec<E, D>;

    fn encoder(&mut self) -> Self::Encoder {
        AnswerCodec::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        AnswerCodec::default()
    }
}

impl<E: Message, D> Encoder for AnswerCodec<E, D> {
    type Item = E;
    type Error = Status;

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(SMALL_BUFFER_BYTES, YIELD_THRESHOLD_BYTES)
    }

    fn encode(&mut self, item: E, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(item.encoded_len());
        item.encode(buf)
            .map_err(|error| Status::internal(format!("cannot encode the answer: {error}")))
    }
}

impl<E, D: Message + Default> Decoder for AnswerCodec<E, D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        // As tonic-prost's decoder: a malformed message is INTERNAL.
        Message::decode(buf)
            .map(Some)
            .map_err(|error| Status::internal(error.to_string()))
    }
}
